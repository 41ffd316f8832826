import { pino } from 'pino';
import type { Logger } from '../../core/foundation/logger.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import type { Publisher, PublishContext } from '../../core/foundation/publisher.js';

/** Options of `ConsolePublisher`. */
export interface ConsolePublisherOptions {
  /** Where lines go. Default: a pino logger on stdout at level info. */
  logger?: Logger;
  /** Include the payload in the line. Default true. */
  includePayload?: boolean;
}

/**
 * Prints one pino JSON line per delivered message. For development, demos, and as the
 * smallest example of a publisher.
 *
 * @example
 * createRelay({ db, publishers: { default: new ConsolePublisher() } });
 */
export class ConsolePublisher implements Publisher {
  readonly name = 'console';
  private readonly logger: Logger;
  private readonly includePayload: boolean;

  constructor(options: ConsolePublisherOptions = {}) {
    this.logger = options.logger ?? (pino({ name: 'outbox-relay:console' }) as unknown as Logger);
    this.includePayload = options.includePayload ?? true;
  }

  async publish(message: OutboxMessage, context: PublishContext): Promise<void> {
    context.signal.throwIfAborted();
    this.logger.info(
      {
        messageId: message.messageId,
        kind: message.kind,
        type: message.type,
        destination: message.destination,
        tenantId: message.tenantId,
        orderingKey: message.orderingKey,
        attempt: context.attempt,
        ...(this.includePayload ? { payload: message.payload } : {}),
      },
      'message delivered',
    );
  }
}
