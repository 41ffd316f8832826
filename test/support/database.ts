import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../src/core/migrations/migrate.js';

/** A migrated, empty outbox schema of this test's own, on the suite's PostgreSQL. */
export interface TestDatabase {
  readonly url: string;
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly db: Kysely<any>;
  /** Drops the schema and closes the pool. */
  close(): Promise<void>;
}

/**
 * Creates a uniquely named schema and migrates it, so test files (and tests) never see
 * each other's rows and can run in parallel.
 *
 * @example
 * const t = await createTestDatabase(); afterAll(() => t.close());
 */
export async function createTestDatabase(
  options: { migrate?: boolean; poolSize?: number } = {},
): Promise<TestDatabase> {
  const url = inject('databaseUrl');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // A test that restarts PostgreSQL or kills connections must not crash the runner.
  pool.on('error', () => undefined);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  if (options.migrate !== false) await migrate(db, { schema });
  return {
    url,
    schema,
    pool,
    db,
    async close() {
      await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
      await db.destroy();
    },
  };
}
