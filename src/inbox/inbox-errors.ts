import { OutboxError } from '../core/foundation/errors.js';

/**
 * `inbox.receive` was given something that cannot be the caller's transaction (a pool, or a
 * kysely instance outside `transaction()`): the handler's effect and the inbox row would
 * commit separately, so a crash between them would lose the effect or apply it twice.
 *
 * @example
 * catch (e) { if (e instanceof InboxTransactionError) console.error('use inbox.process(db, ...)'); }
 */
export class InboxTransactionError extends OutboxError {
  constructor(message: string) {
    super('INBOX_NOT_IN_TRANSACTION', message);
  }
}
