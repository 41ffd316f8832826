import type { Clock } from '../foundation/clock.js';
import type { ResolvedDestinationPolicy } from '../foundation/destination-policy.js';
import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
import { dueBySql, nowParam, nowSql } from './database-time.js';
import { type LimitKind, limitRange, THROTTLED_AT_SQL } from './limit-sql.js';
import { unfinished } from './message-columns.js';

/** One row of `destination_limits` (migration 10) as the store returns it. */
export interface DestinationLimitRow {
  pattern: string;
  ratePerSecond: number | null;
  burst: number | null;
  maxInFlight: number | null;
  /** Whole messages the bucket would allow now (refilled to this moment); null without a rate. */
  tokens: number | null;
  /** `env` (DESTINATION_LIMITS at a start) or `runtime` (set through the API, CLI or HTTP). */
  source: 'env' | 'runtime';
  updatedAt: Date;
}

/** A limit's bucket after refilling, as a limited claim reads it under the row's lock. */
export interface RefilledLimit {
  ratePerSecond: number | null;
  maxInFlight: number | null;
  tokens: number | null;
}

/** The time token buckets refill by: a test's clock, else the database's clock_timestamp(). */
const refillTime = (p: string) => `coalesce(${p}::timestamptz, clock_timestamp())`;

/** The kind of a pattern, in SQL (the same rule as `parseLimitPattern`). */
const kindSql = (p: string) =>
  `case when ${p} like 'tenant:%' then 'tenant' when ${p} like '%:*' then 'route' else 'destination' end`;

/**
 * The SQL of rate limits and concurrency caps (guide: docs/destinations.md), except the limited
 * claim itself, which is in hot-path-sql.ts next to the claim whose rules it shares. Rows waiting
 * on a limit are throttled (`available_at` = THROTTLED_AT_SQL) by the relay's hold pass and taken
 * back by the limited claim; each statement walks messages_route_v2_idx or messages_tenant_idx
 * on one limit's route or tenant.
 *
 * @example
 * const store = new DestinationLimitStore('outbox');
 * await store.set(run, { pattern: 'webhook:*', policy: { ratePerSecond: 100, burst: 20, maxInFlight: 4 }, source: 'runtime' });
 */
export class DestinationLimitStore {
  private readonly t: string;
  private readonly l: string;

  constructor(schema: string) {
    const s = quoteSchema(schema);
    this.t = `${s}.messages`;
    this.l = `${s}.destination_limits`;
  }

  /**
   * Sets the limit of `pattern` (primary key upsert). A new bucket starts full; a changed one
   * keeps its tokens, cut to the new burst.
   */
  async set(
    run: RunSql,
    args: {
      pattern: string;
      policy: ResolvedDestinationPolicy;
      source: 'env' | 'runtime';
      clock?: Clock | undefined;
    },
  ): Promise<void> {
    const p = args.policy;
    await run(
      `insert into ${this.l} as l (pattern, rate, burst, max_in_flight, tokens, refilled_at, source, updated_at)
       values ($1, $2, $3, $4, coalesce($3, 0), ${refillTime('$6')}, $5, ${nowSql('$6')})
       on conflict (pattern) do update
         set rate = excluded.rate, burst = excluded.burst, max_in_flight = excluded.max_in_flight,
             tokens = case when l.rate is null then coalesce(excluded.burst, 0)
                          else least(l.tokens, coalesce(excluded.burst, 0)) end, source = excluded.source,
             updated_at = excluded.updated_at`,
      [args.pattern, p.ratePerSecond, p.burst, p.maxInFlight, args.source, nowParam(args.clock)],
    );
  }

  /** Removes the limit of `pattern`; true when there was one. */
  async clear(run: RunSql, args: { pattern: string }): Promise<boolean> {
    return (
      (await run(`delete from ${this.l} where pattern = $1 returning pattern`, [args.pattern])).length > 0
    );
  }

  /** Every limit, by pattern, its bucket refilled to now (without writing it). */
  async list(run: RunSql, args: { clock?: Clock | undefined } = {}): Promise<DestinationLimitRow[]> {
    const rows = await run<{
      pattern: string;
      rate: number | null;
      burst: number | null;
      max_in_flight: number | null;
      tokens: number | null;
      source: 'env' | 'runtime';
      updated_at: Date;
    }>(
      `select pattern, rate, burst, max_in_flight, source, updated_at,
              case when rate is null then null else least(burst, tokens + rate *
                greatest(0, extract(epoch from ${refillTime('$1')} - refilled_at)::float8)) end as tokens
         from ${this.l} order by pattern`,
      [nowParam(args.clock)],
    );
    return rows.map((r) => ({
      pattern: r.pattern,
      ratePerSecond: r.rate,
      burst: r.burst,
      maxInFlight: r.max_in_flight,
      tokens: r.tokens === null ? null : Math.floor(r.tokens),
      source: r.source,
      updatedAt: r.updated_at,
    }));
  }

  /**
   * Refills the bucket of `pattern` by the time since its last refill and locks its row until
   * the transaction ends: the first statement of a limited claim (see `claimLimited` in
   * hot-path-sql.ts). Undefined when the limit is gone.
   */
  async refill(
    run: RunSql,
    args: { pattern: string; clock?: Clock | undefined },
  ): Promise<RefilledLimit | undefined> {
    const [row] = await run<{ rate: number | null; max_in_flight: number | null; tokens: number | null }>(
      `update ${this.l} l
          set tokens = case when l.rate is null then l.tokens else least(l.burst, l.tokens + l.rate *
                greatest(0, extract(epoch from ${refillTime('$2')} - l.refilled_at)::float8)) end,
              refilled_at = greatest(l.refilled_at, ${refillTime('$2')})
        where l.pattern = $1
       returning l.rate, l.max_in_flight, case when l.rate is null then null else l.tokens end as tokens`,
      [args.pattern, nowParam(args.clock)],
    );
    return row && { ratePerSecond: row.rate, maxInFlight: row.max_in_flight, tokens: row.tokens };
  }

  /**
   * The relay's hold pass: throttles up to `limit` due, unleased rows of each limit (rows added,
   * retried or unparked since the last pass), so the main claim never walks them however many
   * wait. One descent of messages_route_v2_idx or messages_tenant_idx per limit. A row two limits
   * match is throttled once; which limit claims it is decided by the claim. Returns rows throttled.
   */
  async hold(run: RunSql, args: { limit: number; clock?: Clock | undefined }): Promise<number> {
    const rows = await run(
      `with h as (${this.perLimit(
        (kind) => `select m.id from ${this.t} m
            where ${limitRange(kind, 'm', 'l.pattern')} and ${unfinished('m')} and not m.parked
              and m.available_at <= ${dueBySql('$2')}
              and (m.locked_until is null or m.locked_until < ${nowSql('$2')})
            limit $1 for update of m skip locked`,
      )})
       update ${this.t} m set available_at = ${THROTTLED_AT_SQL} from h where m.id = h.id
       returning m.id`,
      [args.limit, nowParam(args.clock)],
    );
    return rows.length;
  }

  /**
   * Makes up to `limit` throttled rows of `pattern` due now (its limit was cleared); returns how
   * many. A row another limit still governs is throttled again by the next hold pass.
   */
  async release(
    run: RunSql,
    args: { pattern: string; kind: LimitKind; limit: number; clock?: Clock | undefined },
  ): Promise<number> {
    const rows = await run(
      `update ${this.t} m set available_at = ${nowSql('$3')}
        where m.id = any(array(
          select m.id from ${this.t} m
           where ${limitRange(args.kind, 'm', '$1')} and ${unfinished('m')} and not m.parked
             and m.available_at = ${THROTTLED_AT_SQL}
           limit $2 for update of m skip locked))
       returning m.id`,
      [args.pattern, args.limit, nowParam(args.clock)],
    );
    return rows.length;
  }

  /**
   * Messages each limit holds throttled right now, by pattern (an index range count per limit):
   * `/metrics` and the status page.
   */
  async throttledCounts(run: RunSql): Promise<Map<string, number>> {
    const rows = await run<{ pattern: string; n: number }>(
      `select l.pattern, count(x.id)::int as n from (${this.perLimit(
        (kind) => `select m.id from ${this.t} m
            where ${limitRange(kind, 'm', 'l.pattern')} and ${unfinished('m')} and not m.parked
              and m.available_at = ${THROTTLED_AT_SQL}`,
        'l.pattern, x.id',
      )}) x right join ${this.l} l on l.pattern = x.pattern group by l.pattern`,
    );
    return new Map(rows.map((r) => [r.pattern, r.n]));
  }

  /**
   * A query over every limit joined laterally to `body(kind)` for its kind: each row of the
   * limits table runs only the branch of its kind (the others' `l.kind` test is a one-time
   * filter), so every branch walks one index range.
   */
  private perLimit(body: (kind: LimitKind) => string, select = 'x.id'): string {
    const branch = (kind: LimitKind) => `select ${select.replace('l.pattern', 'l.pattern as pattern')}
        from (select pattern, ${kindSql('pattern')} as kind from ${this.l}) l
        cross join lateral (${body(kind)}) x
       where l.kind = '${kind}'`;
    return `${branch('destination')}\n union all ${branch('route')}\n union all ${branch('tenant')}`;
  }
}
