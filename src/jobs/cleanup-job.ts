import { cleanupDelivered } from '../core/maintenance/cleanup-delivered.js';
import type { Queryable } from '../core/foundation/queryable.js';
import type { JobFunction } from './scheduler.js';

/**
 * The built-in `cleanup` job: deletes delivered messages (and attempt-log rows) older than `retentionDays`, in
 * short batches (pending and dead rows are never touched).
 *
 * @example
 * scheduler.register('cleanup', '0 3 * * *', cleanupJob({ db, schema: 'outbox', retentionDays: 30 }));
 */
export function cleanupJob(options: { db: Queryable; schema?: string; retentionDays: number }): JobFunction {
  return async ({ signal }) => {
    const r = await cleanupDelivered(options.db, {
      olderThanDays: options.retentionDays,
      signal,
      ...(options.schema ? { schema: options.schema } : {}),
    });
    return {
      deleted: r.deleted,
      attemptsDeleted: r.attemptsDeleted,
      batches: r.batches,
      retentionDays: options.retentionDays,
    };
  };
}
