import type { RunSql } from '../queryable.js';
import { quoteSchema } from '../schema-name.js';
import { nowParam, nowSql } from './database-time.js';

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
 * are the database's unless a `now` is given (tests).
 *
 * @example
 * const maintenance = new MaintenanceStore('outbox');
 * await maintenance.deleteDeliveredBatch(run, { olderThanMs: 30 * 86_400_000, limit: 5000 });
 */
export class MaintenanceStore {
  private readonly t: string;

  constructor(schema: string) {
    this.t = `${quoteSchema(schema)}.messages`;
  }

  /**
   * Deletes up to `limit` rows delivered more than `olderThanMs` ago, oldest ids first.
   * Walking the primary key from the start finds old rows first, since ids grow with time.
   */
  async deleteDeliveredBatch(
    run: RunSql,
    args: { olderThanMs: number; now?: Date; limit: number },
  ): Promise<number> {
    const rows = await run(
      `delete from ${this.t}
        where id in (select id from ${this.t}
                      where status = 'delivered' and delivered_at < ${nowSql('$1')} - $2::float8 * interval '1 ms'
                      order by id limit $3
                      for update skip locked)
       returning id`,
      [nowParam(args.now), args.olderThanMs, args.limit],
    );
    return rows.length;
  }

  /**
   * Counts by status, destination and tenant, and the oldest undelivered message's age.
   * Unfinished and dead rows are counted exactly through their partial indexes, so the cost
   * follows what operators act on, not how many delivered rows are retained. The delivered
   * count is the planner's row estimate minus those (`deliveredIsEstimate`), unless `exact`
   * asks for a full count.
   */
  async stats(run: RunSql, options: { now?: Date; exact?: boolean }): Promise<OutboxStats> {
    // Two arms so each matches one partial index (messages_claimable_idx, messages_dead_idx).
    const groups = await run<{
      status: string;
      destination: string;
      tenant_id: string | null;
      n: string;
      age: number;
    }>(
      `select status, destination, tenant_id, count(*) as n,
              greatest(0, extract(epoch from ${nowSql('$1')} - min(created_at)))::float8 as age
         from (select status, destination, tenant_id, created_at from ${this.t} where status in ('pending', 'in_flight')
               union all
               select status, destination, tenant_id, created_at from ${this.t} where status = 'dead') open
        group by status, destination, tenant_id`,
      [nowParam(options.now)],
    );
    const byStatus = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
    const dest = new Map<string, OutboxStats['byDestination'][number]>();
    const tenant = new Map<string, OutboxStats['byTenant'][number]>();
    let oldest = 0;
    for (const g of groups) {
      const n = Number(g.n);
      byStatus[g.status as keyof typeof byStatus] += n;
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
    const unfinished = byStatus.pending + byStatus.in_flight + byStatus.dead;
    const [estimate] = await run<{ rows: number }>(
      `select reltuples::float8 as rows from pg_class where oid = to_regclass($1)`,
      [this.t],
    );
    // reltuples is -1 before the first ANALYZE: then only a count can say.
    const deliveredIsEstimate = !options.exact && (estimate?.rows ?? -1) >= 0;
    if (deliveredIsEstimate) {
      byStatus.delivered = Math.max(0, Math.round(estimate!.rows) - unfinished);
    } else {
      const [row] = await run<{ n: string }>(
        `select count(*) as n from ${this.t} where status = 'delivered'`,
      );
      byStatus.delivered = Number(row?.n ?? 0);
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
