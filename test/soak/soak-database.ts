import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrate } from '../../src/core/migrations/migrate.js';
import type { Figures, ScenarioDatabase } from '../reliability/harness.js';
import { FIGURES_HEADER, figuresRow } from '../reliability/harness.js';
import { startPostgres } from '../support/postgres-server.js';

/** A migrated schema on DATABASE_URL or a fresh embedded PostgreSQL, for one soak script. */
export async function soakDatabase(poolSize = 30): Promise<ScenarioDatabase & { close(): Promise<void> }> {
  const server = await startPostgres();
  const schema = `soak_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: server.url, max: poolSize });
  pool.on('error', () => undefined);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  await migrate(db, { schema });
  return {
    url: server.url,
    schema,
    pool,
    db,
    async close() {
      await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
      await db.destroy();
      await server.stop();
    },
  };
}

/** Prints a soak run's figures as the report table, its problems, and sets the exit code. */
export function printSoak(figures: Figures, problems: readonly string[], extra = ''): void {
  console.log(FIGURES_HEADER);
  console.log('|---|---|---|---|---|---|---|');
  console.log(figuresRow(figures));
  if (extra) console.log(extra);
  if (problems.length > 0) {
    console.log(`PROBLEMS:\n${problems.join('\n')}`);
    process.exitCode = 1;
  }
}
