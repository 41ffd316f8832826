import type { Publisher } from '../../src/core/foundation/publisher.js';

/** A publisher that does nothing: the drain measures the relay and the database, not a sink. */
export function noopPublisher(onPublish?: (body: string) => void): Publisher {
  return {
    name: 'noop',
    async publish(message) {
      onPublish?.(message.body);
    },
  };
}
