import { TransientPublishError } from '../../core/foundation/errors.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import type { PublishContext, Publisher } from '../../core/foundation/publisher.js';

/** The header a demo message carries to plan its failed first attempts. */
export const FAIL_FIRST_HEADER = 'x-demo-fail-first';

/**
 * A publisher in front of another that fails the first `x-demo-fail-first` attempts of a
 * message, like a flaky downstream, so the demo shows retries with backoff.
 *
 * @example
 * publishers.console = new FlakyPublisher(new ConsolePublisher({ logger }));
 */
export class FlakyPublisher implements Publisher {
  readonly name: string;
  readonly #inner: Publisher;

  constructor(inner: Publisher) {
    this.name = inner.name;
    this.#inner = inner;
  }

  async publish(message: OutboxMessage, context: PublishContext): Promise<unknown> {
    const failFirst = Number(message.headers[FAIL_FIRST_HEADER] ?? 0);
    if (context.attempt <= failFirst) {
      throw new TransientPublishError(
        `demo: downstream busy (attempt ${context.attempt} of ${failFirst} planned failures)`,
      );
    }
    return this.#inner.publish(message, context);
  }

  async close(): Promise<void> {
    await this.#inner.close?.();
  }
}
