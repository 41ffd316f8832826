import type { Kysely, Transaction } from 'kysely';
import type pg from 'pg';
import { type Clock, SystemClock } from '../core/foundation/clock.js';
import { OutboxValidationError } from '../core/foundation/errors.js';
import { type Logger, NOOP_LOGGER } from '../core/foundation/logger.js';
import { type Queryable, queryableKind, sqlRunner } from '../core/foundation/queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../core/foundation/schema-name.js';
import { InboxTransactionError } from './inbox-errors.js';
import { type InboxTableStats, inboxStats } from './inbox-stats.js';
import { InboxStore } from './inbox-store.js';

/** How long a sender is asked to wait before resending a message whose predecessor is missing. */
export const DEFAULT_OUT_OF_ORDER_RETRY_MS = 5_000;

/** Longest message id the inbox stores: ids are keys, not payloads. */
export const MAX_INBOX_ID_LENGTH = 512;

/**
 * A received message as the inbox sees it: its stable id and, for per-key order, its
 * ordering key and position. Everything else (payload, headers) stays with the caller.
 *
 * @example
 * const message: InboxMessage = { id: req.headers['webhook-id'], orderingKey: 'order-42', sequence: 7, previousSequence: 6 };
 */
export interface InboxMessage {
  /** The sender's stable id (`webhook-id`, `Nats-Msg-Id`): the same for every copy. */
  readonly id: string;
  readonly type?: string | null;
  /** Messages of one key are applied in `sequence` order when `sequence` is given too. */
  readonly orderingKey?: string | null;
  /** Rising position (from 1) of the message among its key's messages: the outbox row id, a stream sequence, a version. */
  readonly sequence?: bigint | number | string | null;
  /**
   * The key's previous message's `sequence`, when the sender knows it (`0` for a key's
   * first message): the message is refused as `out_of_order` until that one was applied.
   */
  readonly previousSequence?: bigint | number | string | null;
}

/**
 * What `receive`/`process` did with a message (switch on `status`):
 * - `processed`: new; the handler ran (and returned `result`) in the inbox row's transaction.
 * - `duplicate`: this id was recorded before; the handler did not run. Acknowledge it.
 * - `stale`: a later message of its key was applied already; not applied, recorded, acknowledge it.
 * - `out_of_order`: its predecessor was not applied yet; nothing recorded. Ask for it again
 *   after `retryAfterMs` (HTTP 503 + Retry-After, NATS nak with delay).
 *
 * @example
 * const outcome = await inbox.process(pool, message, handler);
 * if (outcome.status === 'out_of_order') return res.writeHead(503, { 'retry-after': '5' }).end();
 */
export type InboxResult<R> =
  | { readonly status: 'processed'; readonly result: R }
  | { readonly status: 'duplicate' }
  | { readonly status: 'stale'; readonly lastSequence: string }
  | { readonly status: 'out_of_order'; readonly lastSequence: string; readonly retryAfterMs: number };

/**
 * What an inbox counted since it was created (this process only).
 *
 * @example
 * const { processed, duplicates } = inbox.counters();
 */
export interface InboxCounters {
  /** Calls of receive/process that got as far as the database. */
  readonly received: number;
  readonly processed: number;
  readonly duplicates: number;
  readonly stale: number;
  readonly outOfOrder: number;
  /** The handler threw: its transaction rolls back, nothing is recorded, the sender retries. */
  readonly failed: number;
}

/**
 * `inbox.stats()`: this instance's counters and what the table holds.
 *
 * @example
 * const { duplicates, stored, oldestReceivedAt } = await inbox.stats(pool);
 */
export interface InboxStats extends InboxCounters, InboxTableStats {}

/**
 * Options of `createInbox`.
 *
 * @example
 * createInbox({ schema: 'billing', outOfOrderRetryMs: 2_000, logger: pino() });
 */
export interface InboxOptions {
  /** Schema of the inbox tables (created by `migrateInbox`); default `outbox`. */
  readonly schema?: string;
  /** Source of `received_at`; default the wall clock. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Retry delay suggested for an `out_of_order` message; default 5000. */
  readonly outOfOrderRetryMs?: number;
}

/**
 * Runs the effect of one new message inside the inbox row's transaction.
 *
 * @example
 * const credit: InboxHandler<pg.PoolClient, void> = async (client) => { await client.query('update ...'); };
 */
export type InboxHandler<Q, R> = (trx: Q, message: InboxMessage) => Promise<R> | R;

/**
 * The receiving side of the outbox: applies each message's effect once, however often it arrives.
 *
 * @example
 * const inbox: Inbox = createInbox({ schema: 'billing' });
 * await inbox.process(pool, { id }, async (client) => { await client.query('update ...'); });
 */
export interface Inbox {
  readonly schema: string;
  /**
   * Records `message.id` and runs `handler` in the caller's transaction `trx`, only when the id
   * is new. `trx` MUST be inside a transaction that commits after this resolves (a kysely
   * `Transaction`, or a pg client after `begin`): a throw means the caller rolls back.
   * Prefer `process`, which opens the transaction itself.
   */
  receive<Q extends Queryable, R>(
    trx: Q,
    message: InboxMessage,
    handler: InboxHandler<Q, R>,
  ): Promise<InboxResult<R>>;
  /** Like `receive`, in a transaction of its own on `db`: committed when the handler resolves, rolled back when it throws. */
  process<DB, R>(
    db: Kysely<DB> | Transaction<DB>,
    message: InboxMessage,
    handler: InboxHandler<Transaction<DB>, R>,
  ): Promise<InboxResult<R>>;
  process<R>(
    db: pg.Pool,
    message: InboxMessage,
    handler: InboxHandler<pg.PoolClient, R>,
  ): Promise<InboxResult<R>>;
  /** This instance's counters (no database access). */
  counters(): InboxCounters;
  /** Counters plus the ids the table holds. */
  stats(db: Queryable): Promise<InboxStats>;
}

function parseSequence(value: bigint | number | string, field: string, min: bigint): bigint {
  const parsed =
    typeof value === 'bigint'
      ? value
      : typeof value === 'number' && Number.isSafeInteger(value)
        ? BigInt(value)
        : typeof value === 'string' && /^\d{1,19}$/.test(value)
          ? BigInt(value)
          : undefined;
  // bigint in PostgreSQL: a larger value would fail in the database instead of here.
  if (parsed === undefined || parsed < min || parsed > 9_223_372_036_854_775_807n) {
    throw new OutboxValidationError(
      field,
      `must be an integer >= ${min}, got ${JSON.stringify(String(value))}`,
    );
  }
  return parsed;
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_INBOX_ID_LENGTH) {
    throw new OutboxValidationError(
      'message.id',
      `must be a non-empty string of at most ${MAX_INBOX_ID_LENGTH} characters (the sender's stable id), got ${JSON.stringify(id)}`,
    );
  }
  return id;
}

function requireTransaction(trx: Queryable): void {
  const kind = queryableKind(trx);
  if (kind === 'pg-pool') {
    throw new InboxTransactionError(
      'inbox.receive needs the client of your transaction, got a pg Pool (each statement would commit alone): use inbox.process(pool, message, handler)',
    );
  }
  if (kind === 'kysely' && !(trx as Kysely<unknown>).isTransaction) {
    throw new InboxTransactionError(
      'inbox.receive needs a kysely Transaction, got a Kysely instance outside transaction(): use inbox.process(db, message, handler)',
    );
  }
}

/**
 * Creates the inbox: exactly-once effects on top of at-least-once delivery. Each message id is
 * recorded (`INSERT ... ON CONFLICT DO NOTHING`) in the same transaction as the handler's
 * effect, so a copy that comes again, concurrently or a week later, finds the id and is
 * acknowledged without running the handler. Run `migrateInbox` once first.
 *
 * @example
 * const inbox = createInbox({ schema: 'billing' });
 * const outcome = await inbox.process(db, { id: messageId }, async (trx) => {
 *   await trx.updateTable('accounts').set({ balance: sql`balance + 1` }).where('id', '=', 1).execute();
 * });
 * if (outcome.status === 'duplicate') console.log('seen before, effect not repeated');
 */
export function createInbox(options: InboxOptions = {}): Inbox {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const store = new InboxStore(quoteSchema(schema));
  const clock = options.clock ?? new SystemClock();
  const logger = options.logger ?? NOOP_LOGGER;
  const retryAfterMs = options.outOfOrderRetryMs ?? DEFAULT_OUT_OF_ORDER_RETRY_MS;
  if (!Number.isSafeInteger(retryAfterMs) || retryAfterMs < 0) {
    throw new OutboxValidationError('outOfOrderRetryMs', `must be an integer >= 0, got ${retryAfterMs}`);
  }
  const counts = { received: 0, processed: 0, duplicates: 0, stale: 0, outOfOrder: 0, failed: 0 };

  async function apply<Q extends Queryable, R>(
    trx: Q,
    message: InboxMessage,
    handler: InboxHandler<Q, R>,
  ): Promise<InboxResult<R>> {
    const id = checkId(message.id);
    const key = message.orderingKey ?? null;
    const sequence =
      message.sequence === undefined || message.sequence === null
        ? null
        : parseSequence(message.sequence, 'message.sequence', 1n);
    const previous =
      message.previousSequence === undefined || message.previousSequence === null
        ? null
        : parseSequence(message.previousSequence, 'message.previousSequence', 0n);
    const run = sqlRunner(trx);
    const now = clock.now();
    const row = { id, type: message.type ?? null, orderingKey: key, receivedAt: now };
    counts.received++;

    if (key === null || sequence === null) {
      if (!(await store.record(run, row))) return duplicate(id);
      return { status: 'processed', result: await handle(trx, message, handler) };
    }

    // Per-key order: the key's row lock serializes its messages, so the check and the advance
    // below cannot interleave with another delivery of the same key.
    const last = await store.lockKey(run, key, now);
    if (sequence <= last) {
      if (!(await store.record(run, row))) return duplicate(id);
      counts.stale++;
      logger.warn(
        { messageId: id, orderingKey: key, sequence: String(sequence), lastSequence: String(last) },
        'inbox: message is older than the last applied one of its key; acknowledged without running the handler',
      );
      return { status: 'stale', lastSequence: String(last) };
    }
    if (previous !== null && previous !== last) {
      counts.outOfOrder++;
      logger.debug(
        { messageId: id, orderingKey: key, previousSequence: String(previous), lastSequence: String(last) },
        'inbox: predecessor not applied yet; asking for a retry',
      );
      return { status: 'out_of_order', lastSequence: String(last), retryAfterMs };
    }
    if (!(await store.record(run, row))) return duplicate(id);
    const result = await handle(trx, message, handler);
    await store.advanceKey(run, key, sequence, now);
    return { status: 'processed', result };
  }

  function duplicate(id: string): InboxResult<never> {
    counts.duplicates++;
    logger.debug({ messageId: id }, 'inbox: duplicate acknowledged without running the handler');
    return { status: 'duplicate' };
  }

  async function handle<Q, R>(trx: Q, message: InboxMessage, handler: InboxHandler<Q, R>): Promise<R> {
    try {
      const result = await handler(trx, message);
      counts.processed++;
      return result;
    } catch (error) {
      counts.failed++;
      throw error;
    }
  }

  async function processOnPool<R>(
    pool: pg.Pool,
    message: InboxMessage,
    handler: InboxHandler<pg.PoolClient, R>,
  ): Promise<InboxResult<R>> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      try {
        const outcome = await apply(client, message, handler);
        await client.query('commit');
        return outcome;
      } catch (error) {
        await client.query('rollback').catch((rollbackError: Error) => {
          // A connection that cannot roll back must not go back to the pool mid-transaction.
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  return {
    schema,
    async receive(trx, message, handler) {
      requireTransaction(trx);
      return apply(trx, message, handler);
    },
    async process(
      db: Kysely<any> | Transaction<any> | pg.Pool,
      message: InboxMessage,
      handler: InboxHandler<any, any>,
    ) {
      const kind = queryableKind(db);
      if (kind === 'kysely') {
        const k = db as Kysely<any>;
        if (k.isTransaction) return apply(k, message, handler);
        return k.transaction().execute((trx) => apply(trx, message, handler));
      }
      if (kind === 'pg-pool') return processOnPool(db as pg.Pool, message, handler);
      throw new InboxTransactionError(
        'inbox.process opens its own transaction and needs a kysely Kysely or a pg Pool; with a pg client already in a transaction, use inbox.receive',
      );
    },
    counters() {
      return { ...counts };
    },
    async stats(db) {
      return { ...counts, ...(await inboxStats(db, { schema })) };
    },
  };
}
