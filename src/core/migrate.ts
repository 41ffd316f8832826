import { describeError, OutboxError } from './errors.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Migration } from './migrations/migration.js';
import { type Queryable, type RunSql, sqlRunner, withTransaction } from './queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from './schema-name.js';

/** What `migrate` did. */
export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  readonly applied: readonly number[];
  /** The schema's version after the call. */
  readonly version: number;
}

/** The newest migration version this build of outbox-relay knows. */
export const LATEST_MIGRATION_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * Creates or upgrades the outbox schema. Safe to run from many processes at once: the
 * whole run holds a transaction-scoped advisory lock, so one process applies and the others
 * wait and then find nothing to do. Forward-only, and a no-op when already current.
 *
 * @example
 * await migrate(db, { schema: 'outbox' }); // { applied: [1], version: 1 } the first time
 */
export async function migrate(
  db: Queryable,
  options: { schema?: string; migrations?: readonly Migration[] } = {},
): Promise<MigrateResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schema);
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  return withTransaction(db, async (run) => {
    // hashtext keeps the lock per schema, so two apps with different schemas never wait on each other.
    await run(`select pg_advisory_xact_lock(hashtext($1))`, [`outbox-relay:migrate:${schema}`]);
    await run(`create schema if not exists ${s}`);
    await run(
      `create table if not exists ${s}.migrations (
         version int primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    const done = new Set(
      (await run<{ version: number }>(`select version from ${s}.migrations`)).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await applyOne(run, s, migration);
      applied.push(migration.version);
    }
    const version = Math.max(0, ...done, ...applied);
    return { applied, version };
  });
}

async function applyOne(run: RunSql, s: string, migration: Migration): Promise<void> {
  try {
    await run(migration.sql(s));
    await run(`insert into ${s}.migrations (version, name) values ($1, $2)`, [
      migration.version,
      migration.name,
    ]);
  } catch (error) {
    throw new OutboxError(
      'MIGRATION_FAILED',
      `migration ${migration.version} (${migration.name}) failed: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/**
 * The schema's applied migration version, or 0 when outbox-relay was never migrated there.
 * `/readyz` compares it with `LATEST_MIGRATION_VERSION`.
 *
 * @example
 * if ((await schemaVersion(db)) < LATEST_MIGRATION_VERSION) console.log('run outbox-relay migrate');
 */
export async function schemaVersion(db: Queryable, options: { schema?: string } = {}): Promise<number> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schema);
  const run = sqlRunner(db);
  const [exists] = await run<{ t: string | null }>(`select to_regclass($1) as t`, [`${s}.migrations`]);
  if (!exists?.t) return 0;
  const [row] = await run<{ v: number | null }>(`select max(version) as v from ${s}.migrations`);
  return row?.v ?? 0;
}
