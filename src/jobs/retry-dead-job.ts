import { listDead, replayDead } from '../core/dead-letters.js';
import type { Queryable } from '../core/queryable.js';
import type { JobFunction } from './scheduler.js';

/** Dead rows replayed per run at most, so a long outage does not turn into one huge burst. */
export const DEFAULT_RETRY_DEAD_LIMIT = 1000;

/** Dead rows scanned per page while looking for retryable ones. */
const PAGE_SIZE = 500;

/**
 * Whether a dead row died of transient errors (it used up its attempts) rather than a
 * permanent one. The relay writes `gave up after N attempts: <last error>` in the first
 * case; permanent errors and unknown destinations keep their own message.
 *
 * @example
 * diedOfTransientErrors('gave up after 25 attempts: HTTP 503') // true
 * diedOfTransientErrors('no publisher for destination "x"') // false
 */
export function diedOfTransientErrors(lastError: string | null): boolean {
  return lastError !== null && /^gave up after \d+ attempts: /.test(lastError);
}

/**
 * The built-in `retry-dead` job (opt-in): replays dead rows whose attempts ran out on
 * transient errors (a receiver that was down for a day), with a fresh attempt budget.
 * Rows that died of permanent errors stay dead for an operator to look at.
 *
 * @example
 * scheduler.register('retry-dead', '0 * * * *', retryDeadJob({ db, schema: 'outbox' }));
 */
export function retryDeadJob(options: { db: Queryable; schema?: string; limit?: number }): JobFunction {
  const limit = options.limit ?? DEFAULT_RETRY_DEAD_LIMIT;
  const schema = options.schema ? { schema: options.schema } : {};
  return async ({ signal }) => {
    const ids: string[] = [];
    let afterId: string | undefined;
    let scanned = 0;
    while (ids.length < limit && !signal.aborted) {
      const page = await listDead(
        options.db,
        // The prefix narrows the scan in SQL; diedOfTransientErrors below checks the full form.
        { lastErrorPrefix: 'gave up after ' },
        { ...schema, limit: PAGE_SIZE, ...(afterId ? { afterId } : {}) },
      );
      scanned += page.length;
      for (const m of page) if (diedOfTransientErrors(m.lastError) && ids.length < limit) ids.push(m.id);
      if (page.length < PAGE_SIZE) break;
      afterId = page.at(-1)?.id;
    }
    const { replayed } = ids.length > 0 ? await replayDead(options.db, { ids }, schema) : { replayed: 0 };
    return { scanned, replayed };
  };
}
