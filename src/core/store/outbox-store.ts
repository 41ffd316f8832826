import { createHash } from 'node:crypto';
import type { MessageKind } from '../foundation/message.js';
import { parseDestination } from '../foundation/parse-destination.js';
import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
import type { Clock } from '../foundation/clock.js';
import { nowParam } from './database-time.js';
import type { DeadReason } from './dead-reason.js';
import { hotPathSql } from './hot-path-sql.js';
import { INSERT_COLUMNS } from './message-columns.js';
import type { StoredMessage } from './stored-message.js';
import type { AttemptRecord } from './attempt-store.js';
import type { LimitKind } from './limit-sql.js';

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

type InsertField = (typeof INSERT_COLUMNS)[number]['field'];

/**
 * One row to insert, its fields those of `INSERT_COLUMNS`; `payload` and `headers` are JSON
 * text already validated, `availableAt` null for the database's now.
 */
export type InsertRow = Omit<Pick<StoredMessage, InsertField>, 'payload' | 'headers' | 'availableAt'> & {
  payload: string;
  headers: string;
  availableAt: Date | null;
  /**
   * True when the producer chose `messageId`: only such an id can repeat one already moved to
   * the archive, so only such rows pay the archive check. Library UUIDv7 ids cannot collide.
   */
  callerId: boolean;
};

/** A failed attempt to write back: retry after `delayMs`, or dead when `deadReason` is set. */
export interface FailedRow {
  id: string;
  attempts: number;
  /** From the database's now; ignored for dead rows. */
  delayMs: number;
  error: string;
  /** Never `lease_expired`: only the claim writes that one. */
  deadReason: Exclude<DeadReason, 'lease_expired'> | null;
  /** For the attempt log (written only when `markFailed` is asked to log). */
  messageId: string;
  destination: string;
  record: AttemptRecord;
  /**
   * Set (`gone`): the row stays waiting, held until its destination is resumed, and the
   * write-back pauses the destination fleet-wide with this reason (docs/destinations.md).
   */
  pauseReason?: string | null;
}

/** A delivered attempt's log fields (the rest comes from the row the statement deletes). */
export type DeliveredRecord = Pick<AttemptRecord, 'agoMs' | 'durationMs' | 'statusCode'>;

/** A row a write-back changed; `duplicate`: its message_id was archived already, so it was deleted. */
export interface WrittenRow {
  id: string;
  duplicate: boolean;
}

/** What a delivered write-back did not do as asked: both arrays are empty in the usual case. */
export interface DeliveredRows {
  /** Ids no longer in the table: another relay's outcome counted. */
  missing: string[];
  /** Ids whose message_id was archived already: deleted as duplicates. */
  duplicates: string[];
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
  /** A test's clock; omitted in production: the database's now() (see database-time.ts). */
  clock?: Clock;
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
  private readonly sql: ReturnType<typeof hotPathSql>;
  /** Hot-path statement text -> prepared statement name (see `preparedRunner`). */
  readonly hotPath: ReadonlyMap<string, string>;

  /**
   * `fenceVersion`: the claim takes nothing while the schema's migration version is above it
   * (the relay passes the newest migration it was built with).
   */
  constructor(schema: string, options: { fenceVersion?: number } = {}) {
    this.schema = schema;
    this.table = `${quoteSchema(schema)}.messages`;
    this.sql = hotPathSql(schema, options);
    // Names derive from the text, so two stores (schemas) never share a name on one connection.
    this.hotPath = new Map(
      Object.entries(this.sql)
        .filter(([name]) => name !== 'unparkHeads')
        .map(([, text]): string => text)
        .map((text) => [text, `outbox_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`]),
    );
  }

  /** Inserts one message; a message_id that already exists is left as it is. */
  async insertOne(run: RunSql, row: InsertRow): Promise<void> {
    if (row.callerId) return this.insertCallerIds(run, [row]);
    await run(
      this.sql.insertOne,
      INSERT_COLUMNS.map((c) => row[c.field]),
    );
  }

  /** Inserts many messages in one statement (arrays through unnest). */
  async insertMany(run: RunSql, rows: readonly InsertRow[]): Promise<void> {
    if (rows.some((r) => r.callerId)) return this.insertCallerIds(run, rows);
    await run(this.sql.insertMany, this.insertValues(rows));
  }

  private insertValues(rows: readonly InsertRow[]): unknown[] {
    return INSERT_COLUMNS.map((c) => rows.map((r) => r[c.field]));
  }

  /**
   * Inserts messages whose ids the producer chose: a message_id still retained (in the hot
   * table or the archive) is left as it is. Two statements, both on `run` (the caller's
   * transaction): the insert, then the check for a copy a concurrent write-back made a duplicate.
   */
  async insertCallerIds(run: RunSql, rows: readonly InsertRow[]): Promise<void> {
    const inserted = await run<{ id: string }>(this.sql.insertCallerIds, this.insertValues(rows));
    if (inserted.length > 0) await run(this.sql.dropMovedDuplicates, [inserted.map((r) => r.id)]);
  }

  /**
   * Parks up to `limit` keyed rows that wait behind their key's unfinished head, so claims no
   * longer walk them; returns how many it parked. The relay calls it after a claim came back
   * short (it had walked everything due), repeating while batches come back full.
   */
  async park(run: RunSql, args: { clock?: Clock; limit: number }): Promise<number> {
    return (await run(this.sql.park, [nowParam(args.clock), args.limit])).length;
  }

  /** Frees parked rows that have become their key's head without a write-back freeing them. */
  async unparkHeads(run: RunSql): Promise<number> {
    return (await run(this.sql.unparkHeads)).length;
  }

  /**
   * Claims up to `limit` due rows for `workerId` with a lease of `leaseMs`. Rows returned with
   * `dead_error` set were dead-lettered (lease expired on their last attempt), not leased.
   */
  async claim(run: RunSql, args: ClaimArgs): Promise<ClaimedRow[]> {
    const common = [nowParam(args.clock), args.limit, args.workerId, args.leaseMs, args.maxAttempts ?? null];
    const d = args.destinations;
    const rows = d
      ? await run<ClaimedRow>(this.sql.claimRoutes, [
          ...common,
          [...new Set([...d.routes, ...d.exact.map((e) => parseDestination(e).route)])],
          d.routes,
          d.exact,
        ])
      : await run<ClaimedRow>(this.sql.claimAll, common);
    // UPDATE ... RETURNING does not keep the CTE's order; publishers see id order.
    // bigint ids arrive as decimal strings without leading zeros: shorter is smaller, and equal
    // lengths compare as text. No BigInt allocation per comparison.
    return rows.sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Claims rows that the limit `pattern` governs, at most `limit` and as many as its bucket and
   * in-flight cap allow, and debits the bucket. Must run in the transaction whose previous
   * statement was `DestinationLimitStore.refill` of the same pattern (it holds the limit's lock).
   */
  async claimLimited(
    run: RunSql,
    args: Omit<ClaimArgs, 'destinations'> & { pattern: string; kind: LimitKind; destinations?: ClaimRoutes },
  ): Promise<ClaimedRow[]> {
    const d = args.destinations;
    const text =
      args.kind === 'destination'
        ? this.sql.claimLimitedDestination
        : args.kind === 'route'
          ? this.sql.claimLimitedRoute
          : this.sql.claimLimitedTenant;
    const rows = await run<ClaimedRow>(text, [
      nowParam(args.clock),
      args.limit,
      args.workerId,
      args.leaseMs,
      args.maxAttempts ?? null,
      args.pattern,
      d ? d.routes : null,
      d ? d.exact : [],
    ]);
    return rows.sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Claims the probe message of `destination` (its circuit breaker is open): its first claimable
   * row, held or waiting on a backoff, a key's head only. At most one row; one with `dead_error`
   * was dead-lettered by its expired lease instead.
   */
  async claimProbe(
    run: RunSql,
    args: Omit<ClaimArgs, 'limit' | 'destinations'> & { destination: string },
  ): Promise<ClaimedRow[]> {
    return run<ClaimedRow>(this.sql.claimProbe, [
      nowParam(args.clock),
      1,
      args.workerId,
      args.leaseMs,
      args.maxAttempts ?? null,
      args.destination,
    ]);
  }

  /**
   * Marks rows delivered in one statement (by primary key); returns the ids it did not find
   * (`missing`: another relay finished them) and the `duplicates`, whose message_id was already
   * archived (the row left the table, the archive keeps the first delivery).
   */
  async markDelivered(
    run: RunSql,
    args: {
      ids: string[];
      results: (string | null)[];
      clock?: Clock;
      /** Also log each attempt (ATTEMPT_LOG=all), in the same statement; `records` in `ids` order. */
      log?: { workerId: string; records: DeliveredRecord[] };
    },
  ): Promise<DeliveredRows> {
    // An array literal and no results array when all are null (the usual case): pg's array
    // serializer quotes every element, which showed up in the drain profile. The log's numbers
    // go as literals for the same reason.
    const results = args.results.some((r) => r !== null) ? args.results : null;
    const common = [`{${args.ids.join(',')}}`, results, nowParam(args.clock)];
    const log = args.log;
    const [rows] = !log
      ? await run<DeliveredRows>(this.sql.markDelivered, common)
      : await run<DeliveredRows>(this.sql.markDeliveredLogged, [
          ...common,
          log.workerId,
          numberArray(log.records.map((r) => r.agoMs)),
          numberArray(log.records.map((r) => r.durationMs)),
          numberArray(log.records.map((r) => r.statusCode)),
        ]);
    return rows!;
  }

  /**
   * Writes back failed attempts in one statement; returns the rows still leased to `workerId`,
   * each `duplicate` when its message_id was already archived (deleted, neither retried nor dead).
   */
  async markFailed(
    run: RunSql,
    args: { rows: FailedRow[]; workerId: string; clock?: Clock; log?: boolean },
  ): Promise<WrittenRow[]> {
    const rows = args.rows;
    const common = [
      rows.map((r) => r.id),
      rows.map((r) => r.attempts),
      rows.map((r) => r.delayMs),
      rows.map((r) => r.error),
      rows.map((r) => r.deadReason),
      nowParam(args.clock),
      args.workerId,
      rows.map((r) => r.pauseReason ?? null),
    ];
    if (!args.log) return run<WrittenRow>(this.sql.markFailed, common);
    return run<WrittenRow>(this.sql.markFailedLogged, [
      ...common,
      rows.map((r) => r.messageId),
      rows.map((r) => r.destination),
      rows.map((r) => r.record.outcome),
      rows.map((r) => r.record.agoMs),
      rows.map((r) => r.record.durationMs),
      rows.map((r) => r.record.statusCode),
      rows.map((r) => r.record.errorCode),
      rows.map((r) => r.record.detail),
    ]);
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
    const rows = await run(this.sql.release, [args.ids, args.started, args.attempts ?? null, args.workerId]);
    return rows.length;
  }
}

/** A PostgreSQL array literal of numbers (null as NULL), cheaper for pg than an array of numbers. */
function numberArray(values: readonly (number | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : String(v))).join(',')}}`;
}
