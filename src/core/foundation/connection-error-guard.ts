import type pg from 'pg';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import { type Queryable, queryableKind } from './queryable.js';

/** Pools and clients that already have our listeners: each gets them once, however often handed. */
const guarded = new WeakSet<object>();

type ErrorEmitter = { on(event: 'error', listener: (error: Error) => void): unknown };

/**
 * Keeps a lost database connection from taking the process down. node-postgres emits `'error'`
 * on a pool when one of its idle connections dies (`pg_terminate_backend`, a restart, a
 * failover) and on a client when its connection dies while checked out; an `'error'` event
 * nobody listens to is an uncaught exception. This attaches logging listeners, once per pool
 * and client, to a `pg` Pool (its present and future clients) or Client. The pool replaces the
 * connection; a statement running on it fails, and whoever ran it reports that.
 *
 * A kysely instance is left alone: kysely keeps its dialect's pool in a private (#) field that
 * nothing outside it can reach. Hand the relay the `pg` Pool itself (`createRelay({ db: pool })`,
 * the pool your `PostgresDialect` uses) or add `pool.on('error', ...)` yourself. Returns whether
 * it could guard `db`.
 *
 * @example
 * const pool = new pg.Pool({ connectionString });
 * guardConnectionErrors(pool, logger); // true: an idle connection's death is now a warn line
 */
export function guardConnectionErrors(db: Queryable, logger: Logger): boolean {
  const kind = queryableKind(db);
  if (kind === 'pg-client') {
    guard(db as pg.Client, logger, 'warn');
    return true;
  }
  if (kind !== 'pg-pool') return false;
  const pool = db as pg.Pool;
  if (!guarded.has(pool)) {
    guarded.add(pool);
    pool.on('error', (error) =>
      logger.warn(
        { err: describeError(error) },
        'an idle database connection failed (terminated backend, restart or failover); the pool opens a new one when needed',
      ),
    );
    pool.on('connect', (client) => guard(client, logger, 'debug'));
  }
  // Clients opened before the pool was handed to us (migrate, the app's first queries): pg-pool
  // keeps them in `_clients`, stable since pg-pool 2; without it only new clients are guarded.
  const existing = (pool as unknown as { _clients?: unknown })._clients;
  if (Array.isArray(existing)) for (const client of existing) guard(client as pg.PoolClient, logger, 'debug');
  return true;
}

/**
 * One listener per client. A pooled client's failure is logged at debug: the pool's own
 * 'error' (idle) or the failing statement (checked out) is what reports it.
 */
function guard(client: ErrorEmitter, logger: Logger, level: 'warn' | 'debug'): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on('error', (error) =>
    logger[level]({ err: describeError(error) }, 'a database connection failed; statements on it fail'),
  );
}
