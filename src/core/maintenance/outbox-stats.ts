import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import type { Clock } from '../foundation/clock.js';
import { MaintenanceStore, type OutboxStats } from '../store/index.js';

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
  options: { schema?: string; clock?: Clock; exact?: boolean } = {},
): Promise<OutboxStats> {
  const store = new MaintenanceStore(options.schema ?? DEFAULT_SCHEMA);
  return store.stats(sqlRunner(db), {
    ...(options.clock ? { clock: options.clock } : {}),
    exact: options.exact ?? false,
  });
}
