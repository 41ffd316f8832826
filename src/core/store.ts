import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { MessageKind } from './message.js';
import { type Queryable, type RunSql, sqlRunner } from './queryable.js';
import { quoteSchema } from './schema-name.js';

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

/** A failed attempt to write back: retry at `availableAt`, or dead when `dead`. */
export interface FailedRow {
  id: string;
  attempts: number;
  availableAt: Date;
  error: string;
  dead: boolean;
}

/** Filters shared by dead-letter list, replay and purge. All given filters must match. */
export interface DeadFilter {
  ids?: readonly string[];
  messageIds?: readonly string[];
  type?: string;
  destination?: string;
  tenantId?: string;
  /** Only rows that died at or after this time. */
  since?: Date;
  /** Only rows whose last_error starts with this text (e.g. `gave up after ` for exhausted retries). */
  lastErrorPrefix?: string;
}

/** A dead (or any) row as listed for operators. */
export interface StoredMessage {
  id: string;
  messageId: string;
  kind: MessageKind;
  type: string;
  destination: string;
  tenantId: string | null;
  orderingKey: string | null;
  payload: unknown;
  headers: Record<string, string>;
  status: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  result: unknown;
  createdAt: Date;
  availableAt: Date;
  deliveredAt: Date | null;
  deadAt: Date | null;
}

/** Counts for `stats`. */
export interface OutboxStats {
  byStatus: Record<'pending' | 'in_flight' | 'delivered' | 'dead', number>;
  /** True when `byStatus.delivered` is the planner's estimate (fast) rather than a count. */
  deliveredIsEstimate: boolean;
  /** Unfinished (pending + in_flight) and dead rows per destination. */
  byDestination: Array<{ destination: string; status: string; count: number }>;
  byTenant: Array<{ tenantId: string | null; status: string; count: number }>;
  /** Age in seconds of the oldest undelivered (pending or in-flight) message (0 when none). */
  oldestPendingAgeSeconds: number;
}

const STORED_COLUMNS = `id, message_id, kind, type, destination, tenant_id, ordering_key, payload, headers,
  status, attempts, max_attempts, last_error, result, created_at, available_at, delivered_at, dead_at`;

function toStored(r: Record<string, any>): StoredMessage {
  return {
    id: r.id,
    messageId: r.message_id,
    kind: r.kind,
    type: r.type,
    destination: r.destination,
    tenantId: r.tenant_id,
    orderingKey: r.ordering_key,
    payload: r.payload,
    headers: r.headers,
    status: r.status,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    lastError: r.last_error,
    result: r.result,
    createdAt: r.created_at,
    availableAt: r.available_at,
    deliveredAt: r.delivered_at,
    deadAt: r.dead_at,
  };
}

/**
 * Like `sqlRunner`, but on a plain `pg` Pool/Client the statements listed in `hotPath` run as
 * named prepared statements: PostgreSQL parses and plans them once per connection instead of
 * on every call. For a one-row producer INSERT, parse + plan is most of the statement's cost
 * (bench/producer.ts). kysely has no named statements, so a kysely `db` runs them as usual.
 * Turn it off (`preparedStatements: false`) behind PgBouncer in transaction mode before 1.21.
 *
 * @example
 * const run = preparedRunner(pool, store.hotPath);
 * await store.insertOne(run, row);
 */
export function preparedRunner(db: Queryable, hotPath: ReadonlyMap<string, string>): RunSql {
  // Only a real pg Pool (totalCount) or Client/PoolClient (connectionParameters) takes a
  // { name, text, values } config; kysely and look-alike wrappers get plain (text, values).
  const isPg = typeof db === 'object' && db !== null && ('totalCount' in db || 'connectionParameters' in db);
  if (!isPg) return sqlRunner(db);
  const client = db as pg.Pool;
  return async <Row>(text: string, values: readonly unknown[] = []) => {
    const name = hotPath.get(text);
    const config = name ? { name, text, values: values as unknown[] } : { text, values: values as unknown[] };
    return (await client.query(config)).rows as Row[];
  };
}

/**
 * Every SQL statement outbox-relay runs against the messages table, in one place.
 * Statements on the relay's hot path say which index they use.
 *
 * @example
 * const store = new OutboxStore('outbox');
 * const rows = await store.claim(sqlRunner(db), { now: new Date(), leaseMs: 30_000, limit: 100, workerId: 'w1' });
 */
export class OutboxStore {
  readonly schema: string;
  private readonly t: string;
  private readonly insertOneSql: string;
  private readonly insertManySql: string;
  private readonly claimSql: string;
  private readonly markDeliveredSql: string;
  private readonly markFailedSql: string;
  private readonly releaseSql: string;
  /** Hot-path statement text -> prepared statement name (see `preparedRunner`). */
  readonly hotPath: ReadonlyMap<string, string>;

  constructor(schema: string) {
    this.schema = schema;
    this.t = `${quoteSchema(schema)}.messages`;
    const cols =
      'message_id, kind, type, destination, tenant_id, ordering_key, payload, headers, available_at, max_attempts';
    // ON CONFLICT DO NOTHING makes a repeated message_id a no-op: one row, one delivery.
    this.insertOneSql = `insert into ${this.t} (${cols})
      values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, coalesce($9::timestamptz, now()), $10)
      on conflict (message_id) do nothing`;
    this.insertManySql = `insert into ${this.t} (${cols})
      select u.message_id, u.kind, u.type, u.destination, u.tenant_id, u.ordering_key, u.payload, u.headers,
             coalesce(u.available_at, now()), u.max_attempts
        from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                    $8::jsonb[], $9::timestamptz[], $10::int[])
          as u(message_id, kind, type, destination, tenant_id, ordering_key, payload, headers, available_at, max_attempts)
      on conflict (message_id) do nothing`;
    // Hot path. Scans messages_claimable_idx (available_at, id) over due rows only; the
    // NOT EXISTS probe uses messages_ordering_idx. Only the head (lowest unfinished id) of
    // an ordering key is claimable, so one key never has two messages out at once. SKIP
    // LOCKED lets concurrent relays take disjoint rows. available_at is moved to the lease
    // end, which is what makes an expired lease claimable again through the same index.
    this.claimSql = `with claimable as (
        select m.id from ${this.t} m
         where m.status in ('pending', 'in_flight') and m.available_at < $1
           and (m.ordering_key is null or not exists (
                 select 1 from ${this.t} p
                  where p.ordering_key = m.ordering_key and p.id < m.id
                    and p.status in ('pending', 'in_flight')))
         order by m.available_at, m.id
         limit $2
         for update skip locked)
      update ${this.t} m
         set status = 'in_flight', attempts = m.attempts + 1, locked_by = $3, locked_until = $4, available_at = $4
        from claimable c
       where m.id = c.id
      returning m.id, m.message_id, m.kind, m.type, m.destination, m.tenant_id, m.ordering_key,
                m.payload::text as body, nullif(m.headers, '{}') as headers, m.attempts, m.max_attempts,
                extract(epoch from m.created_at)::float8 * 1000 as created_ms`;
    // Write-backs by primary key, one statement per batch (unnest arrays).
    this.markDeliveredSql = `update ${this.t} m
          set status = 'delivered', delivered_at = $3, locked_by = null, locked_until = null,
              last_error = null, dead_at = null, result = r.result
         from unnest($1::bigint[], $2::jsonb[]) as r(id, result)
        where m.id = r.id and m.status <> 'delivered'
       returning m.id`;
    this.markFailedSql = `update ${this.t} m
          set status = case when r.dead then 'dead' else 'pending' end,
              available_at = r.available_at, last_error = r.error, locked_by = null, locked_until = null,
              dead_at = case when r.dead then $6::timestamptz end
         from unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[], $5::boolean[])
           as r(id, attempts, available_at, error, dead)
        where m.id = r.id and m.status = 'in_flight' and m.locked_by = $7 and m.attempts = r.attempts
       returning m.id`;
    this.releaseSql = `update ${this.t} m
          set status = 'pending', locked_by = null, locked_until = null, available_at = $3,
              attempts = case when r.started then m.attempts else greatest(m.attempts - 1, 0) end
         from unnest($1::bigint[], $2::boolean[]) as r(id, started)
        where m.id = r.id and m.status = 'in_flight' and m.locked_by = $4
       returning m.id`;
    // Names derive from the text, so two stores (schemas) never share a name on one connection.
    this.hotPath = new Map(
      [
        this.insertOneSql,
        this.insertManySql,
        this.claimSql,
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

  /** Claims up to `limit` due rows for `workerId` with a lease of `leaseMs`. */
  async claim(
    run: RunSql,
    args: { now: Date; leaseMs: number; limit: number; workerId: string },
  ): Promise<ClaimedRow[]> {
    const leaseEnd = new Date(args.now.getTime() + args.leaseMs);
    // JS clocks have millisecond precision, PostgreSQL's now() microseconds: a row added
    // during the current millisecond counts as due ("available_at < now + 1 ms").
    const dueBefore = new Date(args.now.getTime() + 1);
    const rows = await run<ClaimedRow>(this.claimSql, [dueBefore, args.limit, args.workerId, leaseEnd]);
    // UPDATE ... RETURNING does not keep the CTE's order; publishers see id order.
    // bigint ids arrive as decimal strings without leading zeros: shorter is smaller, and equal
    // lengths compare as text. No BigInt allocation per comparison.
    return rows.sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Marks rows delivered in one statement (by primary key). Delivery wins over whatever
   * another relay did meanwhile: the message did reach its destination.
   */
  async markDelivered(
    run: RunSql,
    args: { ids: string[]; results: (string | null)[]; now: Date },
  ): Promise<number> {
    // An array literal and no results array when all are null (the usual case): pg's array
    // serializer quotes every element, which showed up in the drain profile.
    const results = args.results.some((r) => r !== null) ? args.results : null;
    const rows = await run(this.markDeliveredSql, [`{${args.ids.join(',')}}`, results, args.now]);
    return rows.length;
  }

  /**
   * Writes back failed attempts in one statement. Only rows still leased to this worker at
   * this attempt are touched: if our lease expired and another relay took the row, its
   * outcome is the one that counts.
   */
  async markFailed(run: RunSql, args: { rows: FailedRow[]; workerId: string; now: Date }): Promise<number> {
    const rows = await run(this.markFailedSql, [
      args.rows.map((r) => r.id),
      args.rows.map((r) => r.attempts),
      args.rows.map((r) => r.availableAt),
      args.rows.map((r) => r.error),
      args.rows.map((r) => r.dead),
      args.now,
      args.workerId,
    ]);
    return rows.length;
  }

  /**
   * Gives leased rows back so any relay can claim them at once. Rows never started get
   * their attempt back; rows whose publish was cut off keep it (it may have arrived).
   */
  async release(
    run: RunSql,
    args: { ids: string[]; started: boolean[]; workerId: string; now: Date },
  ): Promise<number> {
    const rows = await run(this.releaseSql, [args.ids, args.started, args.now, args.workerId]);
    return rows.length;
  }

  private deadWhere(filter: DeadFilter, values: unknown[]): string {
    const clauses = [`status = 'dead'`];
    const add = (sqlText: (p: string) => string, value: unknown) => {
      values.push(value);
      clauses.push(sqlText(`$${values.length}`));
    };
    if (filter.ids?.length) add((p) => `id = any(${p}::bigint[])`, filter.ids);
    if (filter.messageIds?.length) add((p) => `message_id = any(${p}::uuid[])`, filter.messageIds);
    if (filter.type !== undefined) add((p) => `type = ${p}`, filter.type);
    if (filter.destination !== undefined) add((p) => `destination = ${p}`, filter.destination);
    if (filter.tenantId !== undefined) add((p) => `tenant_id = ${p}`, filter.tenantId);
    if (filter.since !== undefined) add((p) => `dead_at >= ${p}`, filter.since);
    if (filter.lastErrorPrefix !== undefined) {
      // starts_with is a plain prefix test: no LIKE wildcards to escape in user input.
      add((p) => `starts_with(last_error, ${p})`, filter.lastErrorPrefix);
    }
    return clauses.join(' and ');
  }

  /** Dead rows matching `filter`, oldest first, paged by id (uses messages_dead_idx). */
  async listDead(
    run: RunSql,
    filter: DeadFilter,
    page: { limit: number; afterId?: string },
  ): Promise<StoredMessage[]> {
    const values: unknown[] = [];
    let where = this.deadWhere(filter, values);
    if (page.afterId !== undefined) {
      values.push(page.afterId);
      where += ` and id > $${values.length}`;
    }
    values.push(page.limit);
    const rows = await run(
      `select ${STORED_COLUMNS} from ${this.t} where ${where} order by id limit $${values.length}`,
      values,
    );
    return rows.map(toStored);
  }

  /** One row by id or message_id, whatever its status. */
  async getMessage(run: RunSql, idOrMessageId: string): Promise<StoredMessage | undefined> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrMessageId);
    const rows = await run(
      `select ${STORED_COLUMNS} from ${this.t} where ${isUuid ? 'message_id = $1::uuid' : 'id = $1::bigint'}`,
      [idOrMessageId],
    );
    return rows[0] ? toStored(rows[0]) : undefined;
  }

  /**
   * Moves up to `limit` matching dead rows back to pending with a fresh attempt budget.
   * Callers loop until it returns fewer than `limit`, so no statement holds a huge lock set.
   */
  async replayDeadBatch(
    run: RunSql,
    filter: DeadFilter,
    args: { now: Date; limit: number },
  ): Promise<number> {
    const values: unknown[] = [];
    const where = this.deadWhere(filter, values);
    values.push(args.now, args.limit);
    const rows = await run(
      `update ${this.t} m
          set status = 'pending', attempts = 0, available_at = $${values.length - 1}, dead_at = null,
              last_error = 'replayed after: ' || coalesce(m.last_error, '')
        where m.id in (select id from ${this.t} where ${where} order by id limit $${values.length}
                       for update skip locked)
       returning m.id`,
      values,
    );
    return rows.length;
  }

  /** Deletes up to `limit` matching dead rows. */
  async purgeDeadBatch(run: RunSql, filter: DeadFilter, args: { limit: number }): Promise<number> {
    const values: unknown[] = [];
    const where = this.deadWhere(filter, values);
    values.push(args.limit);
    const rows = await run(
      `delete from ${this.t}
        where id in (select id from ${this.t} where ${where} order by id limit $${values.length}
                     for update skip locked)
       returning id`,
      values,
    );
    return rows.length;
  }

  /**
   * Deletes up to `limit` delivered rows delivered before `before`, oldest ids first.
   * Walking the primary key from the start finds old rows first, since ids grow with time.
   */
  async deleteDeliveredBatch(run: RunSql, args: { before: Date; limit: number }): Promise<number> {
    const rows = await run(
      `delete from ${this.t}
        where id in (select id from ${this.t}
                      where status = 'delivered' and delivered_at < $1
                      order by id limit $2
                      for update skip locked)
       returning id`,
      [args.before, args.limit],
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
  async stats(run: RunSql, options: { now: Date; exact?: boolean }): Promise<OutboxStats> {
    // Two arms so each matches one partial index (messages_claimable_idx, messages_dead_idx).
    const groups = await run<{
      status: string;
      destination: string;
      tenant_id: string | null;
      n: string;
      oldest: Date | null;
    }>(
      `select status, destination, tenant_id, count(*) as n, min(created_at) as oldest
         from (select status, destination, tenant_id, created_at from ${this.t} where status in ('pending', 'in_flight')
               union all
               select status, destination, tenant_id, created_at from ${this.t} where status = 'dead') open
        group by status, destination, tenant_id`,
    );
    const byStatus = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
    const dest = new Map<string, { destination: string; status: string; count: number }>();
    const tenant = new Map<string, { tenantId: string | null; status: string; count: number }>();
    let oldest: Date | null = null;
    for (const g of groups) {
      const n = Number(g.n);
      byStatus[g.status as keyof typeof byStatus] += n;
      const dk = JSON.stringify([g.destination, g.status]);
      const d = dest.get(dk) ?? { destination: g.destination, status: g.status, count: 0 };
      d.count += n;
      dest.set(dk, d);
      const tk = JSON.stringify([g.tenant_id, g.status]);
      const te = tenant.get(tk) ?? { tenantId: g.tenant_id, status: g.status, count: 0 };
      te.count += n;
      tenant.set(tk, te);
      if (g.status !== 'dead' && g.oldest && (!oldest || g.oldest < oldest)) oldest = g.oldest;
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
      oldestPendingAgeSeconds: oldest ? Math.max(0, (options.now.getTime() - oldest.getTime()) / 1000) : 0,
    };
  }
}
