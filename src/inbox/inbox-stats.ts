import { type Queryable, sqlRunner } from '../core/foundation/queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../core/foundation/schema-name.js';
import { InboxStore } from './inbox-store.js';

/**
 * What the inbox table holds, across every process that receives into it.
 *
 * @example
 * const { stored, oldestReceivedAt } = await inboxStats(pool, { schema: 'billing' });
 */
export interface InboxTableStats {
  /** Ids held in `inbox_messages`: what deduplicates now. */
  readonly stored: number;
  /** When the oldest held id arrived (null when empty): pruning keeps it within the retention. */
  readonly oldestReceivedAt: Date | null;
}

/**
 * Counts the ids the inbox holds and finds the oldest one. One `count(*)` over the primary key:
 * for a status page or a metric scraped every so often, not for every message. An inbox
 * instance's own counters (received, duplicates...) come from `inbox.counters()`;
 * `inbox.stats(db)` returns both.
 *
 * @example
 * const stats = await inboxStats(pool, { schema: 'billing' });
 * gauge.set(stats.stored);
 */
export async function inboxStats(
  db: Queryable,
  options: { readonly schema?: string } = {},
): Promise<InboxTableStats> {
  return new InboxStore(quoteSchema(options.schema ?? DEFAULT_SCHEMA)).count(sqlRunner(db));
}
