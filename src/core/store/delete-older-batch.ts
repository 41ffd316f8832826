import type { Clock } from '../foundation/clock.js';
import type { RunSql } from '../foundation/queryable.js';
import { nowParam, nowSql } from './database-time.js';

/** One batch of a retention delete: its age cutoff, size, and where the batch before it stopped. */
export interface OlderBatchArgs {
  olderThanMs: number;
  clock?: Clock;
  limit: number;
  /** The `last` of the batch before: this one starts its index range there. */
  after?: Date | null;
}

/**
 * Deletes up to `limit` rows of `table` whose `column` (a time, with a btree index of its own
 * leading) is more than `olderThanMs` old, oldest first, and returns how many and the newest
 * time deleted. Passed back as `after`, that starts the next batch's index range where this one
 * stopped instead of stepping over every entry the batches before deleted (dead until vacuum),
 * so each batch costs the same however much was already deleted. Rows are picked by ctid in an
 * `array(...)` run once: no sequential scan, no nested loop re-running the pick.
 *
 * @example
 * const batch = await deleteOlderBatch(run, '"outbox".messages_archive', 'delivered_at', { olderThanMs, limit: 5000 });
 */
export async function deleteOlderBatch(
  run: RunSql,
  table: string,
  column: string,
  args: OlderBatchArgs,
): Promise<{ deleted: number; last: Date | null }> {
  const [row] = await run<{ n: number; last: Date | null }>(
    `with d as (
       delete from ${table}
        where ctid = any(array(select ctid from ${table}
                                where ${column} < ${nowSql('$1')} - $2::float8 * interval '1 ms'
                                  and ${column} >= coalesce($4::timestamptz, '-infinity')
                                order by ${column}
                                limit $3))
       returning ${column} as at)
     select count(*)::int as n, max(at) as last from d`,
    [nowParam(args.clock), args.olderThanMs, args.limit, args.after ?? null],
  );
  return { deleted: row?.n ?? 0, last: row?.last ?? null };
}
