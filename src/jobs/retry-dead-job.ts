import { listDead, replayDead } from '../core/maintenance/dead-letters.js';
import type { Queryable } from '../core/foundation/queryable.js';
import type { JobFunction } from './scheduler.js';

/** Dead rows replayed per run at most, so a long outage does not turn into one huge burst. */
export const DEFAULT_RETRY_DEAD_LIMIT = 1000;

/**
 * The built-in `retry-dead` job (opt-in): replays dead rows whose attempts ran out on
 * transient errors (`dead_reason = 'max_attempts'`: a receiver that was down for a day), with a
 * fresh attempt budget. Rows that died for any other reason (permanent errors, unroutable,
 * crash loops, unstorable outcomes) stay dead for an operator to look at.
 *
 * @example
 * scheduler.register('retry-dead', '0 * * * *', retryDeadJob({ db, schema: 'outbox' }));
 */
export function retryDeadJob(options: { db: Queryable; schema?: string; limit?: number }): JobFunction {
  const limit = options.limit ?? DEFAULT_RETRY_DEAD_LIMIT;
  const schema = options.schema ? { schema: options.schema } : {};
  return async ({ signal }) => {
    if (signal.aborted) return { scanned: 0, replayed: 0 };
    // The oldest `limit` of them (messages_dead_idx, filtered by dead_reason).
    const page = await listDead(options.db, { deadReason: 'max_attempts' }, { ...schema, limit });
    const ids = page.map((m) => m.id);
    const { replayed } = ids.length > 0 ? await replayDead(options.db, { ids }, schema) : { replayed: 0 };
    return { scanned: page.length, replayed };
  };
}
