import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import { AttemptStore, MaintenanceStore } from '../store/index.js';
import type { Clock } from '../foundation/clock.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import { requireInt } from '../foundation/option-checks.js';

/** Rows moved or deleted per statement unless configured. */
export const DEFAULT_CLEANUP_BATCH_SIZE = 5000;

/** What a cleanup did. */
export interface CleanupResult {
  /**
   * Archive rows deleted for being older than the cutoff. Rows moved from `messages` to the
   * archive (delivered in place by a relay older than storage v2) are not counted: they were
   * moved, not deleted, and are deleted here only if they too are older than the cutoff.
   */
  deleted: number;
  /** Attempt-log rows deleted for being older than the same cutoff. */
  attemptsDeleted: number;
  /** Statements run, moves and deletes together. */
  batches: number;
  /** Duration of the slowest single statement: the longest any row lock was held. */
  longestBatchMs: number;
}

/**
 * Deletes delivered messages older than `olderThanDays` from `messages_archive`, and attempt-log
 * rows older than the same cutoff from `attempts` (through attempts_at_idx), in batches of
 * `batchSize` rows, each its own short statement: a 10M-row cleanup never holds one giant
 * transaction, never scans the archive sequentially (an index on delivered_at), and pending or dead
 * rows are never touched. First it moves rows that a relay older than storage v2 marked
 * delivered in place (a rolling deploy) from `messages` to the archive, so retention sees them.
 *
 * @example
 * const { deleted } = await cleanupDelivered(db, { olderThanDays: 30 });
 */
export async function cleanupDelivered(
  db: Queryable,
  options: {
    olderThanDays: number;
    schema?: string;
    batchSize?: number;
    clock?: Clock;
    signal?: AbortSignal;
  },
): Promise<CleanupResult> {
  const days = options.olderThanDays;
  if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) {
    requireInt(days, 'olderThanDays', { min: 0, max: 36_500 });
  }
  const batchSize = requireInt(options.batchSize ?? DEFAULT_CLEANUP_BATCH_SIZE, 'batchSize', {
    min: 1,
    max: 1_000_000,
  });
  const store = new MaintenanceStore(options.schema ?? DEFAULT_SCHEMA);
  const run = sqlRunner(db);
  const olderThanMs = days * 86_400_000;
  const result: CleanupResult = { deleted: 0, attemptsDeleted: 0, batches: 0, longestBatchMs: 0 };
  // Each statement timed: the longest is the longest any row lock was held.
  const batches = (step: () => Promise<number>): Promise<number> =>
    repeatUntilShort(
      batchSize,
      async () => {
        const started = performance.now();
        const n = await step();
        result.longestBatchMs = Math.max(result.longestBatchMs, performance.now() - started);
        result.batches++;
        return n;
      },
      options.signal,
    );
  await batches(() => store.moveDeliveredBatch(run, { limit: batchSize }));
  const clock = options.clock ? { clock: options.clock } : {};
  // Both walk an index on their time column from the oldest row, each batch starting where the
  // last one stopped (see deleteDeliveredBatch).
  const deleteOlder = (
    step: (after: Date | null) => Promise<{ deleted: number; last: Date | null }>,
  ): Promise<number> => {
    let after: Date | null = null;
    return batches(async () => {
      const batch = await step(after);
      after = batch.last ?? after;
      return batch.deleted;
    });
  };
  result.deleted = await deleteOlder((after) =>
    store.deleteDeliveredBatch(run, { olderThanMs, ...clock, limit: batchSize, after }),
  );
  const attempts = new AttemptStore(options.schema ?? DEFAULT_SCHEMA);
  result.attemptsDeleted = await deleteOlder((after) =>
    attempts.deleteBatch(run, { olderThanMs, ...clock, limit: batchSize, after }),
  );
  return result;
}
