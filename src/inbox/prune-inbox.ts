import { type Clock, SystemClock } from '../core/foundation/clock.js';
import { OutboxValidationError } from '../core/foundation/errors.js';
import { type Queryable, sqlRunner } from '../core/foundation/queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../core/foundation/schema-name.js';
import { InboxStore } from './inbox-store.js';

/**
 * Days an id is kept. It must outlast every way a copy can still arrive: the relay's default
 * retry schedule spans about 13.4 hours (25 attempts, 1 s doubling to the 1 h cap, +20%
 * jitter), and a dead letter can be replayed by an operator days later, with the same id.
 * A week covers the schedule with room for a relay outage and a weekend before the replay.
 */
export const INBOX_RETENTION_DAYS = 7;

/** Ids deleted per statement: short statements, no long lock on the index. */
export const DEFAULT_INBOX_PRUNE_BATCH_SIZE = 1_000;

const DAY_MS = 86_400_000;

/**
 * What `pruneInbox` deleted.
 *
 * @example
 * const { deleted, batches } = await pruneInbox(pool, { schema: 'billing' });
 */
export interface PruneInboxResult {
  readonly deleted: number;
  /** Statements run (the last one deleted fewer than a batch). */
  readonly batches: number;
}

/**
 * Options of `pruneInbox`.
 *
 * @example
 * pruneInbox(pool, { schema: 'billing', olderThanDays: 14, batchSize: 5_000 });
 */
export interface PruneInboxOptions {
  readonly schema?: string;
  /** Delete ids received more than this many days ago; default `INBOX_RETENTION_DAYS`. */
  readonly olderThanDays?: number;
  readonly batchSize?: number;
  readonly clock?: Clock;
}

/**
 * Deletes inbox ids older than the retention, oldest first, in batches that each walk the
 * `received_at` index (never a sequential scan) and commit on their own. A copy of a pruned id
 * arriving later would be applied again: keep `olderThanDays` above the longest redelivery window.
 * Per-key positions (`inbox_keys`) are kept: a key's next message still needs its predecessor's.
 *
 * @example
 * const { deleted } = await pruneInbox(pool, { schema: 'billing', olderThanDays: 14 });
 */
export async function pruneInbox(db: Queryable, options: PruneInboxOptions = {}): Promise<PruneInboxResult> {
  const store = new InboxStore(quoteSchema(options.schema ?? DEFAULT_SCHEMA));
  const days = options.olderThanDays ?? INBOX_RETENTION_DAYS;
  if (!Number.isFinite(days) || days < 0) {
    throw new OutboxValidationError(
      'olderThanDays',
      `must be a number of days >= 0, got ${JSON.stringify(days)}`,
    );
  }
  const batchSize = options.batchSize ?? DEFAULT_INBOX_PRUNE_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new OutboxValidationError('batchSize', `must be an integer >= 1, got ${JSON.stringify(batchSize)}`);
  }
  const cutoff = new Date((options.clock ?? new SystemClock()).now().getTime() - days * DAY_MS);
  const run = sqlRunner(db);
  let deleted = 0;
  let batches = 0;
  for (;;) {
    const n = await store.pruneBatch(run, cutoff, batchSize);
    deleted += n;
    batches++;
    if (n < batchSize) return { deleted, batches };
  }
}
