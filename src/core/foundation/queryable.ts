import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';

/**
 * Anything outbox-relay can run SQL on: a kysely `Kysely`/`Transaction`, or a `pg`
 * `Pool`, `PoolClient` or `Client`. Pass the one that is inside your transaction.
 *
 * @example
 * await db.transaction().execute((trx) => outbox.add(trx, { type: 'user.created', payload }));
 * // or, with node-postgres:
 * await client.query('begin'); await outbox.add(client, { ... }); await client.query('commit');
 */
export type Queryable = Kysely<any> | Transaction<any> | pg.Pool | pg.PoolClient | pg.Client;

/** Runs one parameterized statement and returns its rows. */
export type RunSql = <Row = Record<string, unknown>>(
  text: string,
  values?: readonly unknown[],
) => Promise<Row[]>;

/**
 * What a `Queryable` is, decided in one place: a kysely instance, a `pg` Pool (hands out
 * connections), a `pg` Client/PoolClient (one connection), or something else with a
 * pg-style `query(text, values)` (a wrapper), which gets plain text statements.
 *
 * @example
 * queryableKind(new pg.Pool()) // 'pg-pool'
 */
export function queryableKind(db: Queryable): 'kysely' | 'pg-pool' | 'pg-client' | 'query-function' {
  if (typeof db !== 'object' || db === null)
    throw new TypeError('expected a kysely Kysely/Transaction or a pg Pool/Client');
  if (typeof (db as Kysely<any>).executeQuery === 'function') return 'kysely';
  // Only a real pg Pool (totalCount) or Client/PoolClient (connectionParameters) takes a
  // { name, text, values } config; look-alike wrappers get plain (text, values).
  if (typeof (db as { totalCount?: unknown }).totalCount === 'number') return 'pg-pool';
  if ('connectionParameters' in db) return 'pg-client';
  if (typeof (db as pg.Pool).query === 'function') return 'query-function';
  throw new TypeError('expected a kysely Kysely/Transaction or a pg Pool/Client');
}

function isKysely(db: Queryable): db is Kysely<any> {
  return queryableKind(db) === 'kysely';
}

/**
 * Adapts a `Queryable` to one function that runs SQL text with positional parameters.
 * Every statement of the outbox goes through here, so kysely and pg users share one code path.
 *
 * @example
 * const run = sqlRunner(pool);
 * const rows = await run<{ n: number }>('select 1 as n');
 */
export function sqlRunner(db: Queryable): RunSql {
  if (isKysely(db)) {
    return async <Row>(text: string, values: readonly unknown[] = []) =>
      (await db.executeQuery<Row>(CompiledQuery.raw(text, values as unknown[]))).rows;
  }
  const client = db as pg.Pool;
  return async <Row>(text: string, values: readonly unknown[] = []) =>
    (await client.query(text, values as unknown[])).rows as Row[];
}

/**
 * Runs `fn` on one dedicated connection inside a transaction (BEGIN ... COMMIT, ROLLBACK on error).
 * Used for work that must hold a transaction-scoped advisory lock (migrations, jobs).
 *
 * @example
 * await withTransaction(db, async (run) => { await run('select pg_advisory_xact_lock(1)'); });
 */
export async function withTransaction<T>(db: Queryable, fn: (run: RunSql) => Promise<T>): Promise<T> {
  if (isKysely(db)) {
    if (db.isTransaction) return fn(sqlRunner(db));
    return db.transaction().execute((trx) => fn(sqlRunner(trx)));
  }
  return onOneConnection(db, async (run) => {
    await run('begin');
    try {
      const result = await fn(run);
      await run('commit');
      return result;
    } catch (error) {
      await run('rollback').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Runs `fn` on one dedicated connection outside any transaction (autocommit), for work that
 * holds a session-level lock or runs statements a transaction refuses (CREATE INDEX CONCURRENTLY).
 *
 * @example
 * await onOneConnection(pool, async (run) => { await run('create index concurrently ...'); });
 */
export async function onOneConnection<T>(db: Queryable, fn: (run: RunSql) => Promise<T>): Promise<T> {
  if (isKysely(db)) return db.connection().execute((conn) => fn(sqlRunner(conn)));
  if (queryableKind(db) !== 'pg-pool') return fn(sqlRunner(db));
  const client = await (db as pg.Pool).connect();
  try {
    return await fn(sqlRunner(client));
  } finally {
    client.release();
  }
}
