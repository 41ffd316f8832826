import type pg from 'pg';
import { type Queryable, queryableKind, type RunSql, sqlRunner } from '../foundation/queryable.js';

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
  const kind = queryableKind(db);
  if (kind !== 'pg-pool' && kind !== 'pg-client') return sqlRunner(db);
  const client = db as pg.Pool;
  return async <Row>(text: string, values: readonly unknown[] = []) => {
    const name = hotPath.get(text);
    const config = name ? { name, text, values: values as unknown[] } : { text, values: values as unknown[] };
    return (await client.query(config)).rows as Row[];
  };
}
