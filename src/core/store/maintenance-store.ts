import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
import type { Clock } from '../foundation/clock.js';
import { nowParam, nowSql } from './database-time.js';
import { archiveCopy } from './message-columns.js';
import { deleteOlderBatch, type OlderBatchArgs } from './delete-older-batch.js';

/** Counts for `stats`. */
export interface OutboxStats {
  byStatus: Record<'pending' | 'in_flight' | 'delivered' | 'dead', number>;
  /** True when `byStatus.delivered` is the planner's estimate (fast) rather than a count. */
  deliveredIsEstimate: boolean;
  /**
   * Unfinished (pending + in_flight) and dead rows per destination, with the age in seconds of
   * the oldest row of each group. A destination no running relay serves shows up here as
   * pending rows growing old.
   */
  byDestination: Array<{ destination: string; status: string; count: number; oldestAgeSeconds: number }>;
  byTenant: Array<{ tenantId: string | null; status: string; count: number }>;
  /** Age in seconds of the oldest undelivered (pending or in-flight) message (0 when none). */
  oldestPendingAgeSeconds: number;
}

/**
 * Statements of the maintenance jobs and of `stats`: retention cleanup and the counts. Times
 * are the database's unless a `now` is given (tests). Delivered rows live in
 * `<schema>.messages_archive`; `messages` holds unfinished and dead rows, plus rows a relay
 * older than storage v2 marked delivered in place until cleanup moves them.
 *
 * @example
 * const maintenance = new MaintenanceStore('outbox');
 * await maintenance.moveDeliveredBatch(run, { limit: 5000 });
 * await maintenance.deleteDeliveredBatch(run, { olderThanMs: 30 * 86_400_000, limit: 5000 });
 */
export class MaintenanceStore {
  private readonly s: string;
  private readonly t: string;
  private readonly archive: string;

  constructor(schema: string) {
    this.s = quoteSchema(schema);
    this.t = `${this.s}.messages`;
    this.archive = `${this.s}.messages_archive`;
  }

  /**
   * Moves up to `limit` rows marked delivered in place in `messages` (by a relay older than
   * storage v2, during a rolling deploy) to the archive, keeping id, message_id and result.
   * Returns how many moved.
   */
  async moveDeliveredBatch(run: RunSql, args: { limit: number }): Promise<number> {
    // `= any(array(...))` runs the locking subquery once; `in (...)` may be planned as a nested
    // loop that runs it again per row (3.5 s for 300 rows, measured). Migration 7 keeps its own
    // copy of this statement: a released migration is frozen, this one follows the columns.
    const { into, select } = archiveCopy();
    const rows = await run(
      `with d as (
         delete from ${this.t}
          where id = any(array(select id from ${this.t} where delivered_at is not null order by id limit $1
                               for update skip locked))
         returning *)
       insert into ${this.archive} (${into})
       select ${select} from d order by delivered_at, id
       returning id`,
      [args.limit],
    );
    return rows.length;
  }

  /**
   * Deletes up to `limit` archive rows delivered more than `olderThanMs` ago, oldest first,
   * through messages_archive_delivered_idx, and returns how many and the newest delivered_at it
   * deleted. Pass that back as `after`: the next batch starts its index range there instead of
   * stepping over every entry the batches before it deleted (dead until vacuum), so each batch
   * costs the same however much the cleanup has already deleted.
   */
  deleteDeliveredBatch(run: RunSql, args: OlderBatchArgs): Promise<{ deleted: number; last: Date | null }> {
    return deleteOlderBatch(run, this.archive, 'delivered_at', args);
  }

  /**
   * Counts by status, destination and tenant, and the oldest undelivered message's age.
   * `messages` holds only unfinished and dead rows, what operators act on, so it is counted
   * exactly in one pass whatever the number of retained delivered rows. Delivered rows are the
   * archive's planner estimate (`deliveredIsEstimate`) plus any still marked delivered in place,
   * unless `exact` asks for a full count of the archive.
   */
  async stats(run: RunSql, options: { clock?: Clock; exact?: boolean }): Promise<OutboxStats> {
    // Status is read from the columns v2 decides by (never filtered on): delivered_at set means
    // delivered in place by an old relay, dead_at set means dead.
    const groups = await run<{
      status: 'pending' | 'in_flight' | 'delivered' | 'dead';
      destination: string;
      tenant_id: string | null;
      n: string;
      age: number;
    }>(
      `select status, destination, tenant_id, count(*) as n,
              greatest(0, extract(epoch from ${nowSql('$1')} - min(created_at)))::float8 as age
         from (select case when delivered_at is not null then 'delivered'
                           when dead_at is not null then 'dead'
                           when status = 'in_flight' then 'in_flight'
                           else 'pending' end as status,
                      destination, tenant_id, created_at
                 from ${this.t}) hot
        group by status, destination, tenant_id`,
      [nowParam(options.clock)],
    );
    const byStatus = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
    const dest = new Map<string, OutboxStats['byDestination'][number]>();
    const tenant = new Map<string, OutboxStats['byTenant'][number]>();
    let oldest = 0;
    for (const g of groups) {
      const n = Number(g.n);
      byStatus[g.status] += n;
      // Delivered rows are counted, not listed: byDestination and byTenant show open and dead work.
      if (g.status === 'delivered') continue;
      const dk = JSON.stringify([g.destination, g.status]);
      const d = dest.get(dk) ?? {
        destination: g.destination,
        status: g.status,
        count: 0,
        oldestAgeSeconds: 0,
      };
      d.count += n;
      d.oldestAgeSeconds = Math.max(d.oldestAgeSeconds, g.age);
      dest.set(dk, d);
      const tk = JSON.stringify([g.tenant_id, g.status]);
      const te = tenant.get(tk) ?? { tenantId: g.tenant_id, status: g.status, count: 0 };
      te.count += n;
      tenant.set(tk, te);
      if (g.status !== 'dead') oldest = Math.max(oldest, g.age);
    }
    const [estimate] = await run<{ rows: number }>(
      `select reltuples::float8 as rows from pg_class where oid = to_regclass($1)`,
      [this.archive],
    );
    // reltuples is -1 before the first VACUUM or ANALYZE: then only a count can say.
    const deliveredIsEstimate = !options.exact && (estimate?.rows ?? -1) >= 0;
    if (deliveredIsEstimate) {
      byStatus.delivered += Math.max(0, Math.round(estimate!.rows));
    } else {
      const [row] = await run<{ n: string }>(`select count(*) as n from ${this.archive}`);
      byStatus.delivered += Number(row?.n ?? 0);
    }
    const order =
      <T extends { status: string }>(key: (x: T) => string) =>
      (a: T, b: T) =>
        key(a).localeCompare(key(b)) || a.status.localeCompare(b.status);
    return {
      byStatus,
      deliveredIsEstimate,
      byDestination: [...dest.values()].sort(order((x) => x.destination)),
      byTenant: [...tenant.values()].sort(order((x) => x.tenantId ?? '')),
      oldestPendingAgeSeconds: oldest,
    };
  }
}
