import { type Queryable, sqlRunner } from './queryable.js';
import { DEFAULT_SCHEMA } from './schema-name.js';
import { type OutboxStats, OutboxStore } from './store.js';

export type { OutboxStats };

/**
 * Counts by status, destination and tenant, plus the age of the oldest undelivered message.
 * Fast however many delivered rows are retained: the delivered count is an estimate
 * (`deliveredIsEstimate`) unless `exact: true` asks for a full count.
 *
 * @example
 * const s = await getStats(db); if (s.byStatus.dead > 0) alert(`${s.byStatus.dead} dead messages`);
 */
export async function getStats(
  db: Queryable,
  options: { schema?: string; now?: Date; exact?: boolean } = {},
): Promise<OutboxStats> {
  return new OutboxStore(options.schema ?? DEFAULT_SCHEMA).stats(sqlRunner(db), {
    now: options.now ?? new Date(),
    exact: options.exact ?? false,
  });
}
