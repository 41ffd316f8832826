import { type Queryable, sqlRunner } from './queryable.js';
import { DEFAULT_SCHEMA } from './schema-name.js';
import { MaintenanceStore } from './store.js';
import { requireInt } from './validate-message.js';

/** Rows deleted per statement unless configured. */
export const DEFAULT_CLEANUP_BATCH_SIZE = 5000;

/** What a cleanup did. */
export interface CleanupResult {
  deleted: number;
  batches: number;
  /** Duration of the slowest single DELETE: the longest any row lock was held. */
  longestBatchMs: number;
}

/**
 * Deletes delivered messages older than `olderThanDays`, in batches of `batchSize` rows,
 * each its own short statement: a 10M-row cleanup never holds one giant transaction, and
 * pending or dead rows are never touched.
 *
 * @example
 * const { deleted } = await cleanupDelivered(db, { olderThanDays: 30 });
 */
export async function cleanupDelivered(
  db: Queryable,
  options: { olderThanDays: number; schema?: string; batchSize?: number; now?: Date; signal?: AbortSignal },
): Promise<CleanupResult> {
  const days = options.olderThanDays;
  if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) {
    requireInt(days, 'olderThanDays', 0, 36_500);
  }
  const batchSize = requireInt(options.batchSize ?? DEFAULT_CLEANUP_BATCH_SIZE, 'batchSize', 1, 1_000_000);
  const store = new MaintenanceStore(options.schema ?? DEFAULT_SCHEMA);
  const run = sqlRunner(db);
  const olderThanMs = days * 86_400_000;
  const result: CleanupResult = { deleted: 0, batches: 0, longestBatchMs: 0 };
  while (!options.signal?.aborted) {
    const started = performance.now();
    const n = await store.deleteDeliveredBatch(run, {
      olderThanMs,
      ...(options.now ? { now: options.now } : {}),
      limit: batchSize,
    });
    result.longestBatchMs = Math.max(result.longestBatchMs, performance.now() - started);
    result.batches++;
    result.deleted += n;
    if (n < batchSize) break;
  }
  return result;
}
