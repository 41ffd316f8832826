import { createHash } from 'node:crypto';
import type { MessageKind } from '../message.js';
import { parseDestination } from '../parse-destination.js';
import type { RunSql } from '../queryable.js';
import { quoteSchema } from '../schema-name.js';
import { dueBySql, nowParam, nowSql } from './database-time.js';

/** A row as the claim returns it (snake_case straight from PostgreSQL). */
export interface ClaimedRow {
  id: string;
  message_id: string;
  kind: MessageKind;
  type: string;
  destination: string;
  tenant_id: string | null;
  ordering_key: string | null;
  body: string;
  /** Null when the message has no headers (most): no JSON to parse per row. */
  headers: Record<string, string> | null;
  attempts: number;
  max_attempts: number;
  /** Epoch milliseconds: a number parses several times faster than a timestamp text. */
  created_ms: number;
  /**
   * Set when the claim dead-lettered the row instead of leasing it: its lease expired on its
   * last attempt (it keeps crashing or hanging its relay). Holds the `last_error` written.
   */
  dead_error: string | null;
}

/** One row to insert; `payload` and `headers` are JSON text already validated. */
export interface InsertRow {
  messageId: string;
  kind: MessageKind;
  type: string;
  destination: string;
  tenantId: string | null;
  orderingKey: string | null;
  payload: string;
  headers: string;
  availableAt: Date | null;
  maxAttempts: number;
}

/** A failed attempt to write back: retry after `delayMs`, or dead when `deadReason` is set. */
export interface FailedRow {
  id: string;
  attempts: number;
  /** From the database's now; ignored for dead rows. */
  delayMs: number;
  error: string;
  deadReason: 'max_attempts' | 'permanent' | 'unroutable' | 'unstorable_result' | null;
}

/**
 * Which destinations a claim may take: `routes` are the publisher keys without ':' (a key
 * serves itself and every `key:*` destination), `exact` the keys with ':' (only that destination).
 */
export interface ClaimRoutes {
  routes: readonly string[];
  exact: readonly string[];
}

/** Arguments of a claim. */
export interface ClaimArgs {
  /** Omitted in production: the database's now() (see database-time.ts). */
  now?: Date;
  leaseMs: number;
  limit: number;
  workerId: string;
  /** Only these destinations (uses messages_route_idx); omitted: every destination. */
  destinations?: ClaimRoutes;
  /** Caps every row's max_attempts (the relay's `maxAttempts`); omitted: the row's own. */
  maxAttempts?: number;
}

/**
 * The statements of the outbox's hot path: inserts, the claim, the write-backs and releases.
 * Each is one autocommit statement with arrays through unnest, and says which index it uses.
 * The rest of the outbox's SQL lives next to it: dead-letter-store.ts, maintenance-store.ts.
 *
 * @example
 * const store = new OutboxStore('outbox');
 * const rows = await store.claim(sqlRunner(db), { leaseMs: 30_000, limit: 100, workerId: 'w1' });
 */
export class OutboxStore {
  readonly schema: string;
  /** The quoted table name. */
  readonly table: string;
  private readonly insertOneSql: string;
  private readonly insertManySql: string;
  private readonly claimAllSql: string;
  private readonly claimRoutesSql: string;
  private readonly markDeliveredSql: string;
  private readonly markFailedSql: string;
  private readonly releaseSql: string;
  /** Hot-path statement text -> prepared statement name (see `preparedRunner`). */
  readonly hotPath: ReadonlyMap<string, string>;

  constructor(schema: string) {
    this.schema = schema;
    const t = `${quoteSchema(schema)}.messages`;
    this.table = t;
    const cols =
      'message_id, kind, type, destination, tenant_id, ordering_key, payload, headers, available_at, max_attempts';
    // ON CONFLICT DO NOTHING makes a repeated message_id a no-op: one row, one delivery.
    this.insertOneSql = `insert into ${t} (${cols})
      values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, coalesce($9::timestamptz, now()), $10)
      on conflict (message_id) do nothing`;
    this.insertManySql = `insert into ${t} (${cols})
      select u.message_id, u.kind, u.type, u.destination, u.tenant_id, u.ordering_key, u.payload, u.headers,
             coalesce(u.available_at, now()), u.max_attempts
        from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                    $8::jsonb[], $9::timestamptz[], $10::int[])
          as u(message_id, kind, type, destination, tenant_id, ordering_key, payload, headers, available_at, max_attempts)
      on conflict (message_id) do nothing`;

    // The claim. $1 now (null: the database's), $2 limit, $3 worker, $4 lease ms, $5 attempt cap,
    // then the destination filter. Only the head (lowest unfinished id) of an ordering key is
    // claimable (the NOT EXISTS probe uses messages_ordering_idx), so one key never has two
    // messages out at once. SKIP LOCKED lets concurrent relays take disjoint rows.
    // available_at moves to the lease end, which is what makes an expired lease claimable again
    // through the same index. A row whose lease expired on its last attempt is not leased again:
    // it probably crashed or hung its relay every time, so it is dead-lettered right here.
    const eligible = (
      m: string,
    ) => `${m}.status in ('pending', 'in_flight') and ${m}.available_at <= ${dueBySql('$1')}
           and (${m}.ordering_key is null or not exists (
                 select 1 from ${t} p
                  where p.ordering_key = ${m}.ordering_key and p.id < ${m}.id
                    and p.status in ('pending', 'in_flight')))`;
    const expired = (m: string) =>
      `(${m}.status = 'in_flight' and ${m}.attempts >= least(${m}.max_attempts, coalesce($5::int, ${m}.max_attempts))) as expired`;
    const lease = `${nowSql('$1')} + $4::float8 * interval '1 ms'`;
    const leaseOrDeadLetter = (due: string) => `with due as (${due})
      update ${t} m
         set status = case when d.expired then 'dead' else 'in_flight' end,
             attempts = case when d.expired then m.attempts else m.attempts + 1 end,
             locked_by = case when d.expired then null else $3 end,
             locked_until = case when d.expired then null else ${lease} end,
             available_at = case when d.expired then m.available_at else ${lease} end,
             dead_at = case when d.expired then ${nowSql('$1')} end,
             dead_reason = case when d.expired then 'lease_expired' end,
             last_error = case when d.expired
               then format('lease expired %s times: the message probably crashes or hangs its relay (last error: %s)',
                           m.attempts, coalesce(m.last_error, 'none'))
               else m.last_error end
        from due d
       where m.id = d.id
      returning m.id, m.message_id, m.kind, m.type, m.destination, m.tenant_id, m.ordering_key,
                m.payload::text as body, nullif(m.headers, '{}') as headers, m.attempts, m.max_attempts,
                extract(epoch from m.created_at)::float8 * 1000 as created_ms,
                case when d.expired then m.last_error end as dead_error`;
    // Every destination: scans messages_claimable_idx (available_at, id) over due rows only.
    this.claimAllSql = leaseOrDeadLetter(`select m.id, ${expired('m')} from ${t} m
         where ${eligible('m')}
         order by m.available_at, m.id
         limit $2
         for update skip locked`);
    // Only served destinations ($6 routes, $7 whole-route keys, $8 exact keys): one ordered
    // range of messages_route_idx (route, available_at, id) per route, merged and cut to the
    // limit. Rows of destinations nobody serves are never read, however many wait.
    this.claimRoutesSql = leaseOrDeadLetter(`select c.id, c.expired
          from unnest($6::text[]) as r(route)
         cross join lateral (
               select m.id, m.available_at, ${expired('m')} from ${t} m
                where split_part(m.destination, ':', 1) = r.route
                  and (r.route = any($7::text[]) or m.destination = any($8::text[]))
                  and ${eligible('m')}
                order by m.available_at, m.id
                limit $2
                for update of m skip locked) c
         order by c.available_at, c.id
         limit $2`);
    // Write-backs by primary key, one statement per batch (unnest arrays). Delivery wins over
    // whatever another relay did meanwhile: the message did reach its destination.
    this.markDeliveredSql = `update ${t} m
          set status = 'delivered', delivered_at = ${nowSql('$3')}, locked_by = null, locked_until = null,
              last_error = null, dead_at = null, dead_reason = null, result = r.result
         from unnest($1::bigint[], $2::jsonb[]) as r(id, result)
        where m.id = r.id and m.status <> 'delivered'
       returning m.id`;
    // Only rows still leased to this worker at this attempt: if the lease expired and another
    // relay took the row, that relay's outcome is the one that counts.
    this.markFailedSql = `update ${t} m
          set status = case when r.dead_reason is null then 'pending' else 'dead' end,
              available_at = ${nowSql('$6')} + r.delay_ms * interval '1 ms',
              last_error = r.error, locked_by = null, locked_until = null,
              dead_at = case when r.dead_reason is not null then ${nowSql('$6')} end,
              dead_reason = r.dead_reason
         from unnest($1::bigint[], $2::int[], $3::float8[], $4::text[], $5::text[])
           as r(id, attempts, delay_ms, error, dead_reason)
        where m.id = r.id and m.status = 'in_flight' and m.locked_by = $7 and m.attempts = r.attempts
       returning m.id`;
    this.releaseSql = `update ${t} m
          set status = 'pending', locked_by = null, locked_until = null, available_at = ${nowSql('$4')},
              attempts = case when r.started then m.attempts else greatest(m.attempts - 1, 0) end
         from unnest($1::bigint[], $2::boolean[], $3::int[]) as r(id, started, attempts)
        where m.id = r.id and m.status = 'in_flight' and m.locked_by = $5
          and (r.attempts is null or m.attempts = r.attempts)
       returning m.id`;
    // Names derive from the text, so two stores (schemas) never share a name on one connection.
    this.hotPath = new Map(
      [
        this.insertOneSql,
        this.insertManySql,
        this.claimAllSql,
        this.claimRoutesSql,
        this.markDeliveredSql,
        this.markFailedSql,
        this.releaseSql,
      ].map((text) => [text, `outbox_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`]),
    );
  }

  /** Inserts one message; a message_id that already exists is left as it is. */
  async insertOne(run: RunSql, row: InsertRow): Promise<void> {
    await run(this.insertOneSql, [
      row.messageId,
      row.kind,
      row.type,
      row.destination,
      row.tenantId,
      row.orderingKey,
      row.payload,
      row.headers,
      row.availableAt,
      row.maxAttempts,
    ]);
  }

  /** Inserts many messages in one statement (arrays through unnest). */
  async insertMany(run: RunSql, rows: readonly InsertRow[]): Promise<void> {
    await run(this.insertManySql, [
      rows.map((r) => r.messageId),
      rows.map((r) => r.kind),
      rows.map((r) => r.type),
      rows.map((r) => r.destination),
      rows.map((r) => r.tenantId),
      rows.map((r) => r.orderingKey),
      rows.map((r) => r.payload),
      rows.map((r) => r.headers),
      rows.map((r) => r.availableAt),
      rows.map((r) => r.maxAttempts),
    ]);
  }

  /**
   * Claims up to `limit` due rows for `workerId` with a lease of `leaseMs`. Rows returned with
   * `dead_error` set were dead-lettered (lease expired on their last attempt), not leased.
   */
  async claim(run: RunSql, args: ClaimArgs): Promise<ClaimedRow[]> {
    const common = [nowParam(args.now), args.limit, args.workerId, args.leaseMs, args.maxAttempts ?? null];
    const d = args.destinations;
    const rows = d
      ? await run<ClaimedRow>(this.claimRoutesSql, [
          ...common,
          [...new Set([...d.routes, ...d.exact.map((e) => parseDestination(e).route)])],
          d.routes,
          d.exact,
        ])
      : await run<ClaimedRow>(this.claimAllSql, common);
    // UPDATE ... RETURNING does not keep the CTE's order; publishers see id order.
    // bigint ids arrive as decimal strings without leading zeros: shorter is smaller, and equal
    // lengths compare as text. No BigInt allocation per comparison.
    return rows.sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Marks rows delivered in one statement (by primary key); returns the ids it changed. */
  async markDelivered(
    run: RunSql,
    args: { ids: string[]; results: (string | null)[]; now?: Date },
  ): Promise<string[]> {
    // An array literal and no results array when all are null (the usual case): pg's array
    // serializer quotes every element, which showed up in the drain profile.
    const results = args.results.some((r) => r !== null) ? args.results : null;
    const rows = await run<{ id: string }>(this.markDeliveredSql, [
      `{${args.ids.join(',')}}`,
      results,
      nowParam(args.now),
    ]);
    return rows.map((r) => r.id);
  }

  /** Writes back failed attempts in one statement; returns the ids still leased to `workerId`. */
  async markFailed(
    run: RunSql,
    args: { rows: FailedRow[]; workerId: string; now?: Date },
  ): Promise<string[]> {
    const rows = await run<{ id: string }>(this.markFailedSql, [
      args.rows.map((r) => r.id),
      args.rows.map((r) => r.attempts),
      args.rows.map((r) => r.delayMs),
      args.rows.map((r) => r.error),
      args.rows.map((r) => r.deadReason),
      nowParam(args.now),
      args.workerId,
    ]);
    return rows.map((r) => r.id);
  }

  /**
   * Gives leased rows back so any relay can claim them at once. Rows never started (or whose
   * publish was stopped before it could deliver) get their attempt back (`started: false`).
   * With `attempts`, only rows still at that attempt are touched (not a later claim of ours).
   */
  async release(
    run: RunSql,
    args: { ids: string[]; started: boolean[]; attempts?: number[]; workerId: string; now?: Date },
  ): Promise<number> {
    const rows = await run(this.releaseSql, [
      args.ids,
      args.started,
      args.attempts ?? null,
      nowParam(args.now),
      args.workerId,
    ]);
    return rows.length;
  }
}
