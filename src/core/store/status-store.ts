import type { Clock } from '../foundation/clock.js';
import type { RunSql } from '../foundation/queryable.js';
import { nowParam, nowSql } from './database-time.js';
import { THROTTLED_AT_SQL } from './limit-sql.js';
import { quoteSchema } from '../foundation/schema-name.js';
import { UNKNOWN_DEAD_REASON } from './dead-reason.js';
import { unfinished } from './message-columns.js';

/** How the binary names its connections (`application_name`): this prefix and its worker id. */
export const APPLICATION_NAME_PREFIX = 'outbox-relay:';

/** Longest error text the status page is given per row: enough to read, bounded to ship. */
export const STATUS_ERROR_MAX_CHARS = 500;

/** Pending and in-flight rows of one destination. */
export interface OpenDestinationRow {
  destination: string;
  pending: number;
  inFlight: number;
  /** Rows that have been claimed at least once (attempts > 0). */
  attempted: number;
  /** created_at of the oldest unfinished row. */
  oldestCreatedAt: Date;
  /** One last_error among the unfinished rows, cut to STATUS_ERROR_MAX_CHARS. */
  sampleError: string | null;
  /** Rows waiting on a rate limit or concurrency cap (throttled, docs/destinations.md). */
  throttled: number;
}

/** Deliveries (or deaths) of one destination in one minute. */
export interface MinuteCountRow {
  destination: string;
  /** Start of the minute. */
  minute: Date;
  count: number;
  /** Of `count`, those at or after the `recentSince` bound of the query. */
  recent: number;
}

/** Dead rows of one destination that died for one reason. */
export interface DeadGroupRow {
  destination: string;
  /** `dead_reason`, or UNKNOWN_DEAD_REASON when the column is null. */
  reason: string;
  count: number;
  firstSeen: Date | null;
  lastSeen: Date | null;
  sampleMessageId: string;
  sampleType: string;
  sampleError: string | null;
}

/** Due unfinished rows of one route that a relay does not serve. */
export interface UnservedRouteRow {
  /** The destination up to its first `:`. */
  route: string;
  /** Due rows, counted up to UNSERVED_COUNT_LIMIT. */
  due: number;
  /** One of its destinations, as written (`default`, `webhook:acme`). */
  sample: string;
}

/** Where `unservedDue` stops counting a route's due rows. */
export const UNSERVED_COUNT_LIMIT = 10_000;

/** A worker id seen holding a lease, running a job, or connected to the database right now. */
export interface SeenWorkerRow {
  workerId: string;
  source: 'lease' | 'job' | 'connection';
  /**
   * Leases held now (source lease), runs started in the window (source job), or open
   * connections named `outbox-relay:<worker id>` (source connection: the binary names its
   * pool so; a library relay uses the application's own pool and shows by its leases and jobs).
   */
  count: number;
  lastSeen: Date;
}

/** Where an unfinished row stands: its lease and, for a keyed row, the key's head before it. */
export interface MessagePlaceRow {
  status: string;
  lockedBy: string | null;
  lockedUntil: Date | null;
  parked: boolean;
  /** The lowest unfinished row of its key below it (what it waits behind), if any. */
  headId: string | null;
  headMessageId: string | null;
}

/**
 * The status page's read-only SQL over `<schema>.messages` (unfinished and dead rows),
 * `<schema>.messages_archive` (delivered rows) and `<schema>.job_runs`. None of it runs on the
 * relay's hot path, none of it writes, and each statement says which index keeps it fast with
 * millions of retained delivered rows (measured in docs/binary.md, Status page). No statement
 * filters on `status`: no index names it; unfinished is `unfinished()`,
 * dead is `dead_at is not null`.
 *
 * @example
 * const store = new StatusStore('outbox');
 * const now = await store.now(sqlRunner(db));
 * const open = await store.openByDestination(sqlRunner(db));
 */
export class StatusStore {
  readonly schema: string;
  private readonly s: string;
  private readonly t: string;
  private readonly archive: string;

  constructor(schema: string) {
    this.schema = schema;
    this.s = quoteSchema(schema);
    this.t = `${this.s}.messages`;
    this.archive = `${this.s}.messages_archive`;
  }

  /** The database's time: every window on the status page is measured from it, not the host's. */
  async now(run: RunSql): Promise<Date> {
    const [row] = await run<{ now: Date }>('select now() as now');
    return row!.now;
  }

  /**
   * Unfinished rows per destination (messages_key_idx and messages_claim_idx are partial on the
   * same predicate; `messages` holds only unfinished and dead rows, so even a scan reads no
   * delivered ones).
   */
  async openByDestination(run: RunSql): Promise<OpenDestinationRow[]> {
    const rows = await run<{
      destination: string;
      pending: string;
      in_flight: string;
      attempted: string;
      oldest: Date;
      sample_error: string | null;
      throttled: string;
    }>(
      `select destination,
              count(*) filter (where available_at = ${THROTTLED_AT_SQL}) as throttled,
              count(*) filter (where status = 'pending') as pending,
              count(*) filter (where status = 'in_flight') as in_flight,
              count(*) filter (where attempts > 0) as attempted,
              min(created_at) as oldest,
              left(max(last_error), ${STATUS_ERROR_MAX_CHARS}) as sample_error
         from ${this.t}
        where ${unfinished()}
        group by destination`,
    );
    return rows.map((r) => ({
      destination: r.destination,
      pending: Number(r.pending),
      inFlight: Number(r.in_flight),
      attempted: Number(r.attempted),
      oldestCreatedAt: r.oldest,
      sampleError: r.sample_error,
      throttled: Number(r.throttled),
    }));
  }

  /**
   * Routes with due, unparked, unfinished rows that `served` does not name, each with its due
   * count (up to UNSERVED_COUNT_LIMIT) and a sample destination: what a relay warns about once
   * at start, since it will never claim them. A skip scan of messages_route_v2_idx (route,
   * available_at, id; partial on the same predicate): one descent per distinct route, then one
   * range probe per unserved route, however many rows wait.
   */
  async unservedDue(
    run: RunSql,
    args: { served: readonly string[]; clock?: Clock | undefined },
  ): Promise<UnservedRouteRow[]> {
    const route = `split_part(m.destination, ':', 1)`;
    const open = `${unfinished('m')} and not m.parked`;
    return run<UnservedRouteRow>(
      `with recursive r(route) as (
         (select ${route} from ${this.t} m where ${open} order by 1 limit 1)
         union all
         select (select ${route} from ${this.t} m where ${open} and ${route} > r.route order by 1 limit 1)
           from r where r.route is not null)
       select r.route, d.due, d.sample
         from r
        cross join lateral (
              select count(*)::int as due, min(x.destination) as sample
                from (select m.destination from ${this.t} m
                       where ${open} and ${route} = r.route and m.available_at <= ${nowSql('$1')}
                       limit ${UNSERVED_COUNT_LIMIT}) x) d
        where r.route is not null and r.route <> all($2::text[]) and d.due > 0
        order by r.route`,
      [nowParam(args.clock), args.served],
    );
  }

  /**
   * Deliveries per destination and minute since `since`, with how many of them are at or after
   * `recentSince`. Reads the archive's window through messages_archive_delivered_idx (an
   * index-only range scan: it includes destination), whatever the number of older rows.
   * Rows a relay older than storage v2 marked delivered in place count too until cleanup moves
   * them (a scan of `messages`, which holds no archive).
   */
  deliveredPerMinute(run: RunSql, args: { since: Date; recentSince: Date }): Promise<MinuteCountRow[]> {
    return this.perMinute(
      run,
      `select destination, delivered_at as at from ${this.archive} where delivered_at >= $1
       union all
       select destination, delivered_at from ${this.t} where delivered_at >= $1`,
      args,
    );
  }

  /** Deaths per destination and minute since `since` (uses messages_dead_at_idx: dead rows only). */
  deadPerMinute(run: RunSql, args: { since: Date; recentSince: Date }): Promise<MinuteCountRow[]> {
    return this.perMinute(
      run,
      `select destination, dead_at as at from ${this.t} where dead_at is not null and dead_at >= $1`,
      args,
    );
  }

  /** Rows of `source` (destination, at: the time a final state was reached, since $1) per destination and minute. */
  private async perMinute(
    run: RunSql,
    source: string,
    args: { since: Date; recentSince: Date },
  ): Promise<MinuteCountRow[]> {
    const rows = await run<{ destination: string; minute: Date; n: string; recent: string }>(
      `select destination, date_trunc('minute', at) as minute, count(*) as n,
              count(*) filter (where at >= $2) as recent
         from (${source}) finished
        group by 1, 2`,
      [args.since, args.recentSince],
    );
    return rows.map(toMinuteRow);
  }

  /**
   * Dead rows grouped by destination and reason, most recently active first, each with its newest
   * row as the sample (the grouping uses messages_dead_at_idx; the sample is a primary-key lookup).
   */
  async deadGroups(run: RunSql, args: { limit: number }): Promise<DeadGroupRow[]> {
    const rows = await run<{
      destination: string;
      reason: string;
      n: string;
      first_seen: Date | null;
      last_seen: Date | null;
      message_id: string;
      type: string;
      sample_error: string | null;
    }>(
      `with g as (
         select destination, coalesce(dead_reason, '${UNKNOWN_DEAD_REASON}') as reason, count(*) as n,
                min(dead_at) as first_seen, max(dead_at) as last_seen, max(id) as sample_id
           from ${this.t}
          where dead_at is not null
          group by 1, 2)
       select g.destination, g.reason, g.n, g.first_seen, g.last_seen, m.message_id, m.type,
              left(m.last_error, ${STATUS_ERROR_MAX_CHARS}) as sample_error
         from g join ${this.t} m on m.id = g.sample_id
        order by g.last_seen desc nulls last, g.destination, g.reason
        limit $1`,
      [args.limit],
    );
    return rows.map((r) => ({
      destination: r.destination,
      reason: r.reason,
      count: Number(r.n),
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      sampleMessageId: r.message_id,
      sampleType: r.type,
      sampleError: r.sample_error,
    }));
  }

  /**
   * Row ids of one dead group, in id order from `afterId`, so the admin routes can replay or
   * purge the `unknown` group (dead_reason null, which no dead-letter filter names) through the
   * `ids` filter in pages (uses messages_dead_at_idx, whose key is id).
   */
  async deadGroupIds(
    run: RunSql,
    args: { destination: string; reason: string; afterId: string; limit: number },
  ): Promise<string[]> {
    const rows = await run<{ id: string }>(
      `select id from ${this.t}
        where dead_at is not null and destination = $1 and coalesce(dead_reason, '${UNKNOWN_DEAD_REASON}') = $2
          and id > $3::bigint
        order by id
        limit $4`,
      [args.destination, args.reason, args.afterId, args.limit],
    );
    return rows.map((r) => String(r.id));
  }

  /**
   * Worker ids holding leases now and those that ran a job since `since`. Leases: no index
   * names locked_by (the claim's update stays HOT), so this reads `messages`, which holds only
   * unfinished and dead rows; job_runs is pruned to 1000 runs per job, so its scan stays small.
   * Connections: pg_stat_activity, a view of the server's memory (one row per backend).
   */
  async seenWorkers(run: RunSql, args: { since: Date }): Promise<SeenWorkerRow[]> {
    const rows = await run<{
      worker_id: string;
      source: SeenWorkerRow['source'];
      n: string;
      last_seen: Date;
    }>(
      `select locked_by as worker_id, 'lease' as source, count(*) as n, max(locked_until) as last_seen
         from ${this.t}
        where locked_by is not null and ${unfinished()}
        group by locked_by
       union all
       select worker_id, 'job', count(*), max(started_at)
         from ${this.s}.job_runs
        where started_at >= $1
        group by worker_id
       union all
       select substr(application_name, length($2) + 1), 'connection', count(*),
              max(coalesce(state_change, backend_start))
         from pg_stat_activity
        where datname = current_database() and starts_with(application_name, $2)
        group by application_name
        order by 4 desc`,
      [args.since, APPLICATION_NAME_PREFIX],
    );
    return rows.map((r) => ({
      workerId: r.worker_id,
      source: r.source,
      count: Number(r.n),
      lastSeen: r.last_seen,
    }));
  }

  /**
   * The lease and the key's head of row `id` in `messages` (undefined when it is not there):
   * a primary-key lookup, then one descent of messages_key_idx (ordering_key, id; partial on
   * unfinished) for the lowest unfinished row of its key below it.
   */
  async messagePlace(run: RunSql, id: string): Promise<MessagePlaceRow | undefined> {
    const [row] = await run<MessagePlaceRow>(
      `select m.status, m.locked_by as "lockedBy", m.locked_until as "lockedUntil", m.parked,
              h.id::text as "headId", h.message_id as "headMessageId"
         from ${this.t} m
         left join lateral (
              select p.id, p.message_id from ${this.t} p
               where p.ordering_key = m.ordering_key and ${unfinished('p')} and p.id < m.id
               order by p.id limit 1) h on true
        where m.id = $1::bigint`,
      [id],
    );
    return row;
  }
}

function toMinuteRow(r: { destination: string; minute: Date; n: string; recent: string }): MinuteCountRow {
  return { destination: r.destination, minute: r.minute, count: Number(r.n), recent: Number(r.recent) };
}
