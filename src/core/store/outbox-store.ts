import { createHash } from 'node:crypto';
import type { MessageKind } from '../foundation/message.js';
import { parseDestination } from '../foundation/parse-destination.js';
import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
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
  /**
   * True when the producer chose `messageId`: only such an id can repeat one already moved to
   * the archive, so only such rows pay the archive check. Library UUIDv7 ids cannot collide.
   */
  callerId: boolean;
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
  private readonly insertCallerIdsSql: string;
  private readonly dropMovedDuplicatesSql: string;
  private readonly parkSql: string;
  private readonly unparkHeadsSql: string;
  /** Hot-path statement text -> prepared statement name (see `preparedRunner`). */
  readonly hotPath: ReadonlyMap<string, string>;

  constructor(schema: string) {
    this.schema = schema;
    const s = quoteSchema(schema);
    const t = `${s}.messages`;
    const a = `${s}.messages_archive`;
    this.table = t;
    const cols =
      'message_id, kind, type, destination, tenant_id, ordering_key, payload, headers, available_at, max_attempts';
    const unnestRows = (
      ord: '' | 'with ordinality',
    ) => `unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                    $6::text[], $7::jsonb[], $8::jsonb[], $9::timestamptz[], $10::int[]) ${ord}
          as u(message_id, kind, type, destination, tenant_id, ordering_key, payload, headers, available_at, max_attempts${ord ? ', ord' : ''})`;
    const unnestCols = `u.message_id, u.kind, u.type, u.destination, u.tenant_id, u.ordering_key, u.payload, u.headers,
             coalesce(u.available_at, now()), u.max_attempts`;
    // ON CONFLICT DO NOTHING makes a repeated message_id a no-op: one row, one delivery.
    this.insertOneSql = `insert into ${t} (${cols})
      values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, coalesce($9::timestamptz, now()), $10)
      on conflict (message_id) do nothing`;
    this.insertManySql = `insert into ${t} (${cols})
      select ${unnestCols}
        from ${unnestRows('')}
      on conflict (message_id) do nothing`;
    // Caller-chosen ids: also a no-op while the message is retained in the archive (one probe of
    // messages_archive_message_id_idx per row). Returns what it inserted, for the check below.
    // ORDER BY keeps the caller's order (ids, and which of two equal message_ids wins) through
    // the anti-join, which may reorder rows.
    this.insertCallerIdsSql = `insert into ${t} (${cols})
      select ${unnestCols}
        from ${unnestRows('with ordinality')}
       where not exists (select 1 from ${a} x where x.message_id = u.message_id)
       order by u.ord
      on conflict (message_id) do nothing
      returning id`;
    // The race the NOT EXISTS above cannot see: a write-back moving the same message_id to the
    // archive commits while our insert waits on the hot row's unique entry; once it is gone the
    // slot is free and our row goes in. A statement of its own sees the move (READ COMMITTED: a
    // new snapshot shows the archive row; REPEATABLE READ: the old one still shows the moved row
    // under its own id), and our copy goes. Measured: 30 of 30 forced races without it, 0 with it.
    this.dropMovedDuplicatesSql = `delete from ${t} h
       where h.id = any($1::bigint[])
         and (exists (select 1 from ${a} x where x.message_id = h.message_id)
              or exists (select 1 from ${t} o where o.message_id = h.message_id and o.id <> h.id))`;

    // "Unfinished": neither delivered (an older relay may still mark a row delivered in place)
    // nor dead. Every partial index of v2 says exactly this, never `status`.
    const open = (x: string) => `${x}.delivered_at is null and ${x}.dead_at is null`;
    // The lowest unfinished id of key `key` (above id `after`: a finished row's successor; else
    // the key's head), one descent of messages_key_idx. A scalar subquery, not NOT EXISTS
    // (... p.id < m.id): the planner turns that into a hash semi-join whose id filter is
    // quadratic in a key's backlog. Migration 7 fixes the column's n_distinct so that statistics
    // taken while one blocked key holds nearly every row do not make the planner walk the
    // primary key here instead.
    const nextOfKey = (key: string, after?: string) => `select p.id from ${t} p
                  where p.ordering_key = ${key} and ${open('p')}${after ? ` and p.id > ${after}` : ''}
                  order by p.id limit 1`;
    // The claim. $1 now (null: the database's), $2 limit, $3 worker, $4 lease ms, $5 attempt cap,
    // then the destination filter. It walks messages_claim_idx (available_at, id) over due,
    // unparked rows; a keyed row is taken only when it is its key's head, so one key never has
    // two messages out at once, and the followers of a blocked head are parked (out of the
    // index) by `park`. In-flight rows keep their place in the index and are skipped by their
    // lease: the claim writes no indexed column, so its UPDATE is HOT. An expired lease is
    // claimable through the same condition; a row whose lease expired on its last attempt is
    // dead-lettered right here (it probably crashed or hung its relay every time).
    const eligible = (m: string) => `${open(m)} and not ${m}.parked and ${m}.available_at <= ${dueBySql('$1')}
           and (${m}.locked_until is null or ${m}.locked_until < ${nowSql('$1')})
           and (${m}.ordering_key is null or ${m}.id = (${nextOfKey(`${m}.ordering_key`)}))`;
    const expired = (m: string) =>
      `(${m}.status = 'in_flight' and ${m}.attempts >= least(${m}.max_attempts, coalesce($5::int, ${m}.max_attempts))) as expired`;
    const lease = `${nowSql('$1')} + $4::float8 * interval '1 ms'`;
    const leaseOrDeadLetter = (due: string) => `with due as (${due}),
      c as (
        update ${t} m
           set status = case when d.expired then 'dead' else 'in_flight' end,
               attempts = case when d.expired then m.attempts else m.attempts + 1 end,
               locked_by = case when d.expired then null else $3 end,
               locked_until = case when d.expired then null else ${lease} end,
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
                  case when d.expired then m.last_error end as dead_error),
      ${unparkAfter('(select id, ordering_key from c where dead_error is not null and ordering_key is not null)')}
      select * from c`;
    // Every destination: one ordered range of messages_claim_idx over due rows.
    this.claimAllSql = leaseOrDeadLetter(`select m.id, ${expired('m')} from ${t} m
         where ${eligible('m')}
         order by m.available_at, m.id
         limit $2
         for update of m skip locked`);
    // Only served destinations ($6 routes, $7 whole-route keys, $8 exact keys): one ordered
    // range of messages_route_v2_idx (route, available_at, id) per route, merged and cut to the
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
    // Frees the successor (next unfinished id of the key) of each finished row in `finished`
    // (id, ordering_key): a dead or delivered head no longer blocks its key. Without a
    // `parked` condition on purpose: a park that committed after this statement's snapshot is
    // still undone (the row lock makes PostgreSQL re-read the row), and when the successor was
    // not parked the update changes nothing indexed and is HOT.
    function unparkAfter(finished: string): string {
      return `nxt as (
        select (${nextOfKey('f.ordering_key', 'f.id')}) as id
          from (select ordering_key, max(id) as id from ${finished} f0 group by 1) f),
      unparked as (update ${t} m set parked = false from nxt where m.id = nxt.id)`;
    }
    // Park: keyed rows the claim would walk past (an earlier unfinished row of their key exists)
    // leave messages_claim_idx. Each key's head is locked FOR SHARE once: a write-back deleting
    // it later waits for this statement, then unparks the successor it finds. A head that is
    // gone (deleted before we got to it) or locked by a write-back right now is skipped, and its
    // key's followers are left for the next pass: park never waits on a lock, so it cannot
    // deadlock with a write-back, which locks head then successor while park locks the other
    // way round. Walks messages_park_idx (due keyed rows only). $1 now, $2 limit. Returns one
    // row per parked row.
    this.parkSql = `with f as (
        select m.id, m.ordering_key from ${t} m
         where m.ordering_key is not null and ${open('m')} and not m.parked and m.available_at <= ${dueBySql('$1')}
           and (m.locked_until is null or m.locked_until < ${nowSql('$1')})
           and m.id > (${nextOfKey('m.ordering_key')})
         order by m.available_at, m.id
         limit $2
         for update of m skip locked),
      heads as (
        select h.ordering_key from ${t} h
         where h.id in (select (${nextOfKey('k.ordering_key')}) from (select distinct ordering_key from f) k)
         for share of h skip locked)
      update ${t} m set parked = true from f join heads using (ordering_key) where m.id = f.id
      returning m.id`;
    // The safety net under parking: a parked row that is its key's head (its head was finished
    // by a relay older than v2, or a park raced the head's write-back) is freed. One descent of
    // messages_parked_idx per key with parked rows, so its cost follows the blocked keys.
    this.unparkHeadsSql = `with recursive keys(k) as (
        (select ordering_key from ${t} where parked order by ordering_key limit 1)
        union all
        select (select ordering_key from ${t} where parked and ordering_key > keys.k order by ordering_key limit 1)
          from keys where keys.k is not null),
      heads as (
        select m.id from keys
          join ${t} m on m.id = (${nextOfKey('keys.k')})
         where keys.k is not null and m.parked
         for update of m skip locked)
      update ${t} m set parked = false from heads where m.id = heads.id
      returning m.id`;
    // Delivered: delete from the hot table, append to the archive with the result, and free
    // each key's next row, in one statement by primary key. Delivery wins over whatever another
    // relay did meanwhile: the message did reach its destination.
    this.markDeliveredSql = `with d as (
        delete from ${t} m using unnest($1::bigint[], $2::jsonb[]) as r(id, result)
         where m.id = r.id
        returning m.*, r.result as new_result),
      archived as (
        insert into ${a} (id, message_id, tenant_id, kind, type, destination, ordering_key, payload,
                          headers, attempts, max_attempts, result, created_at, available_at, delivered_at)
        select id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers,
               attempts, max_attempts, new_result, created_at, available_at, ${nowSql('$3')}
          from d order by id),
      ${unparkAfter('(select id, ordering_key from d where ordering_key is not null)')}
      select id from d`;
    // Only rows still leased to this worker at this attempt: if the lease expired and another
    // relay took the row, that relay's outcome is the one that counts. A retry moves the row in
    // the claim index (its new available_at); a death frees its key's successor.
    this.markFailedSql = `with f as (
        update ${t} m
           set status = case when r.dead_reason is null then 'pending' else 'dead' end,
               available_at = ${nowSql('$6')} + r.delay_ms * interval '1 ms',
               last_error = r.error, locked_by = null, locked_until = null,
               dead_at = case when r.dead_reason is not null then ${nowSql('$6')} end,
               dead_reason = r.dead_reason
          from unnest($1::bigint[], $2::int[], $3::float8[], $4::text[], $5::text[])
            as r(id, attempts, delay_ms, error, dead_reason)
         where m.id = r.id and m.status = 'in_flight' and m.locked_by = $7 and m.attempts = r.attempts
        returning m.id, m.ordering_key, m.dead_at),
      ${unparkAfter('(select id, ordering_key from f where dead_at is not null and ordering_key is not null)')}
      select id from f`;
    // Leaves available_at alone (already due): HOT, and the row is claimable at once.
    this.releaseSql = `update ${t} m
          set status = 'pending', locked_by = null, locked_until = null,
              attempts = case when r.started then m.attempts else greatest(m.attempts - 1, 0) end
         from unnest($1::bigint[], $2::boolean[], $3::int[]) as r(id, started, attempts)
        where m.id = r.id and m.status = 'in_flight' and m.locked_by = $4
          and (r.attempts is null or m.attempts = r.attempts)
       returning m.id`;
    // Names derive from the text, so two stores (schemas) never share a name on one connection.
    this.hotPath = new Map(
      [
        this.insertOneSql,
        this.insertManySql,
        this.insertCallerIdsSql,
        this.dropMovedDuplicatesSql,
        this.claimAllSql,
        this.claimRoutesSql,
        this.parkSql,
        this.markDeliveredSql,
        this.markFailedSql,
        this.releaseSql,
      ].map((text) => [text, `outbox_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`]),
    );
  }

  /** Inserts one message; a message_id that already exists is left as it is. */
  async insertOne(run: RunSql, row: InsertRow): Promise<void> {
    if (row.callerId) return this.insertCallerIds(run, [row]);
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
    if (rows.some((r) => r.callerId)) return this.insertCallerIds(run, rows);
    await run(this.insertManySql, this.insertValues(rows));
  }

  private insertValues(rows: readonly InsertRow[]): unknown[] {
    return [
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
    ];
  }

  /**
   * Inserts messages whose ids the producer chose: a message_id still retained (in the hot
   * table or the archive) is left as it is. Two statements, both on `run` (the caller's
   * transaction): the insert, then the check for a copy a concurrent write-back made a duplicate.
   */
  async insertCallerIds(run: RunSql, rows: readonly InsertRow[]): Promise<void> {
    const inserted = await run<{ id: string }>(this.insertCallerIdsSql, this.insertValues(rows));
    if (inserted.length > 0) await run(this.dropMovedDuplicatesSql, [inserted.map((r) => r.id)]);
  }

  /**
   * Parks up to `limit` keyed rows that wait behind their key's unfinished head, so claims no
   * longer walk them; returns how many it parked. The relay calls it after a claim came back
   * short (it had walked everything due), repeating while batches come back full.
   */
  async park(run: RunSql, args: { now?: Date; limit: number }): Promise<number> {
    return (await run(this.parkSql, [nowParam(args.now), args.limit])).length;
  }

  /** Frees parked rows that have become their key's head without a write-back freeing them. */
  async unparkHeads(run: RunSql): Promise<number> {
    return (await run(this.unparkHeadsSql)).length;
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
    args: { ids: string[]; started: boolean[]; attempts?: number[]; workerId: string },
  ): Promise<number> {
    const rows = await run(this.releaseSql, [args.ids, args.started, args.attempts ?? null, args.workerId]);
    return rows.length;
  }
}
