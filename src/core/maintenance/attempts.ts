import { OutboxValidationError } from '../foundation/errors.js';
import { requireInt } from '../foundation/option-checks.js';
import { parseMessageRef } from '../foundation/parse-message-ref.js';
import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import { type AttemptRow, AttemptStore } from '../store/index.js';

export type { AttemptRow };

/** Attempts `listAttempts` returns unless `limit` says otherwise. */
export const DEFAULT_ATTEMPTS_LIMIT = 100;

/** Which attempts `listAttempts` reads: one message's, one destination's, or every one. */
export interface ListAttemptsOptions {
  /** One message's attempts (and replays), oldest first. */
  messageId?: string;
  /** One destination's attempts, newest first. */
  destination?: string;
  /** Only attempts written at or after this time. */
  since?: Date;
  /** At most this many rows (default 100, at most 10,000). */
  limit?: number;
  schema?: string;
}

/**
 * Reads the delivery-attempt log (what `ATTEMPT_LOG` / the relay's `attemptLog` recorded): a
 * message's attempts oldest first, or a destination's (or all) newest first, each with its
 * outcome, HTTP status, error code, duration, the head of the response or error, and the relay.
 *
 * @example
 * const story = await listAttempts(db, { messageId: '0193e5a2-7c1b-7cc0-9d1e-2f3a4b5c6d7e' });
 * const recent = await listAttempts(db, { destination: 'webhook', since: new Date(Date.now() - 3_600_000), limit: 20 });
 */
export async function listAttempts(db: Queryable, options: ListAttemptsOptions = {}): Promise<AttemptRow[]> {
  const limit = requireInt(options.limit ?? DEFAULT_ATTEMPTS_LIMIT, 'limit', { min: 1, max: 10_000 });
  if (
    options.since !== undefined &&
    !(options.since instanceof Date && Number.isFinite(options.since.getTime()))
  )
    throw new OutboxValidationError('since', `must be a valid Date, got ${String(options.since)}`);
  let messageId: string | undefined;
  if (options.messageId !== undefined) {
    const ref = parseMessageRef(options.messageId, 'messageId');
    if (ref.kind !== 'messageId')
      throw new OutboxValidationError(
        'messageId',
        `must be a message_id (UUID), got ${JSON.stringify(options.messageId)}`,
      );
    messageId = ref.messageId;
  }
  return new AttemptStore(options.schema ?? DEFAULT_SCHEMA).list(sqlRunner(db), {
    limit,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(options.destination !== undefined ? { destination: options.destination } : {}),
    ...(options.since !== undefined ? { since: options.since } : {}),
  });
}
