import { type Clock, sleep } from '../foundation/clock.js';
import { describeError, OutboxError } from '../foundation/errors.js';
import type { Logger } from '../foundation/logger.js';
import { requireInt } from '../foundation/option-checks.js';
import { LATEST_MIGRATION_VERSION, MIGRATIONS } from './migration-list.js';
import { readSchemaState } from './schema-state.js';
import type { Migration, OnlineStep } from './migration.js';
import { PoliteLocks } from './polite-locks.js';
import type { Kysely } from 'kysely';
import {
  onOneConnection,
  type Queryable,
  queryableKind,
  type RunSql,
  withTransaction,
} from '../foundation/queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../foundation/schema-name.js';

/** What `migrate` did. */
export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  readonly applied: readonly number[];
  /** The schema's version after the call. */
  readonly version: number;
  /**
   * How many times a catalog step gave up waiting for a table lock (another transaction held
   * it longer than `lockTimeoutMs`) and the pass was retried; 0 when nothing was in the way.
   */
  readonly lockRetries: number;
}

/** Options of `migrate`. */
export interface MigrateOptions {
  schema?: string;
  /** The migrations to apply (tests); default every migration of this build. */
  migrations?: readonly Migration[];
  /**
   * How long a catalog step may wait for a table lock before it steps back and retries:
   * producers queued behind it wait at most about this long. Default `DEFAULT_MIGRATE_LOCK_TIMEOUT_MS`.
   */
  lockTimeoutMs?: number;
  /** How long to keep retrying before `MIGRATION_LOCK_TIMEOUT`. Default `DEFAULT_MIGRATE_LOCK_BUDGET_MS`. */
  lockBudgetMs?: number;
  /** Told about each retry (warn) so an operator sees who is in the way. Default: silent. */
  logger?: Logger;
  clock?: Clock;
}

export { LATEST_MIGRATION_VERSION };
/** Default `lockTimeoutMs` of `migrate`: producers never queue longer than this behind it. */
export const DEFAULT_MIGRATE_LOCK_TIMEOUT_MS = 100;
/** Default `lockBudgetMs` of `migrate`. */
export const DEFAULT_MIGRATE_LOCK_BUDGET_MS = 300_000;

/**
 * Creates or upgrades the outbox schema. Safe to run from many processes at once: the
 * whole run holds a transaction-scoped advisory lock, so one process applies and the others
 * wait and then find nothing to do. Forward-only, and a no-op when already current.
 *
 * Catalog steps take their table locks politely: each waits at most `lockTimeoutMs` (a waiting
 * ACCESS EXCLUSIVE request queues every producer behind it), then the pass rolls back and is
 * retried with backoff, until `lockBudgetMs` passes (`MIGRATION_LOCK_TIMEOUT`).
 *
 * @example
 * await migrate(db, { schema: 'outbox' }); // { applied: [1, ...], version: 7, lockRetries: 0 } the first time
 */
export async function migrate(db: Queryable, options: MigrateOptions = {}): Promise<MigrateResult> {
  return migrateTrack(db, OUTBOX_TRACK, options.migrations ?? MIGRATIONS, options);
}

/**
 * A numbered track of migrations in a schema: the table recording its versions and the name of
 * its advisory lock. The outbox has one; a subsystem with tables of its own (the inbox) has
 * another, so a service that only receives never runs the outbox's migrations, and the two never
 * wait on each other.
 */
export interface MigrationTrack {
  /** The versions table, in the schema (`migrations`). */
  readonly table: string;
  /** The advisory lock's name, made per schema (`outbox-relay:migrate`). */
  readonly lock: string;
}

/** The outbox's own track. */
export const OUTBOX_TRACK: MigrationTrack = { table: 'migrations', lock: 'outbox-relay:migrate' };

/** A migration as a track runs it: what `Migration` says about the outbox's relays is not needed. */
export type TrackMigration = Omit<Migration, 'previousRelays'>;

/**
 * Applies `migrations` of `track` the way `migrate` does for the outbox (one advisory lock per
 * schema and track, polite table locks, online steps outside the transaction). For subsystems
 * with tables of their own, such as the inbox's `migrateInbox`.
 *
 * @example
 * await migrateTrack(db, { table: 'inbox_migrations', lock: 'outbox-relay:migrate-inbox' }, INBOX_MIGRATIONS, { schema });
 */
export async function migrateTrack(
  db: Queryable,
  track: MigrationTrack,
  all: readonly TrackMigration[],
  options: Omit<MigrateOptions, 'migrations'> = {},
): Promise<MigrateResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schema);
  const versions = `${s}.${quoteSchema(track.table, 'track.table')}`;
  const migrations = [...all].sort((a, b) => a.version - b.version);
  const lockKey = `${track.lock}:${schema}`;
  const lockTimeoutMs = requireInt(
    options.lockTimeoutMs ?? DEFAULT_MIGRATE_LOCK_TIMEOUT_MS,
    'lockTimeoutMs',
    {
      min: 1,
      max: 3_600_000,
    },
  );
  const budgetMs = requireInt(options.lockBudgetMs ?? DEFAULT_MIGRATE_LOCK_BUDGET_MS, 'lockBudgetMs', {
    min: 0,
    max: 86_400_000,
  });
  // A caller's transaction cannot run CREATE INDEX CONCURRENTLY: everything runs inside it, and
  // it cannot be retried either (a lock timeout aborts the caller's transaction): no lock_timeout.
  const inCallerTransaction = queryableKind(db) === 'kysely' && (db as Kysely<any>).isTransaction;
  const polite = new PoliteLocks({
    schema,
    lockTimeoutMs,
    budgetMs,
    logger: options.logger,
    clock: options.clock,
  });
  const applied: number[] = [];
  for (;;) {
    const passApplied: number[] = [];
    const onePass = () =>
      withTransaction(db, async (run) => {
        // hashtext keeps the lock per schema, so two apps with different schemas never wait on each other.
        await run(`select pg_advisory_xact_lock(hashtext($1))`, [lockKey]);
        // After the advisory lock, which may rightly wait for another migrate.
        if (!inCallerTransaction) await polite.limit(run);
        await run(`create schema if not exists ${s}`);
        await run(
          `create table if not exists ${versions} (
             version int primary key, name text not null, applied_at timestamptz not null default now(),
             relays_from int)`,
        );
        // Tables made before relays_from existed get it; looked up first, so a run with nothing
        // to do takes no lock on the table every claim reads.
        const [hasRelaysFrom] = await run(
          `select 1 from pg_attribute where attrelid = $1::regclass and attname = 'relays_from' and not attisdropped`,
          [versions],
        );
        if (!hasRelaysFrom) await run(`alter table ${versions} add column if not exists relays_from int`);
        const done = new Set(
          (await run<{ version: number }>(`select version from ${versions}`)).map((r) => r.version),
        );
        // A schema created by this very call holds no rows: its online steps run in the transaction.
        const fresh = !done.has(migrations[0]?.version ?? 1);
        passApplied.length = 0;
        for (const migration of migrations) {
          if (done.has(migration.version)) continue;
          await guarded(migration, () => run(migration.sql(s)));
          if (migration.online && !fresh && !inCallerTransaction) return { online: migration, done };
          for (const step of migration.online?.(s, '') ?? []) {
            await guarded(migration, () => runStep(run, step));
          }
          await record(run, versions, migration);
          done.add(migration.version);
          passApplied.push(migration.version);
        }
        return { online: undefined, done };
      });
    const pass = inCallerTransaction ? await onePass() : await polite.retry(onePass);
    applied.push(...passApplied);
    if (!pass.online) return { applied, version: Math.max(0, ...pass.done), lockRetries: polite.retries };
    if (await applyOnline(db, { schema, versions, lockKey }, pass.online, polite, options))
      applied.push(pass.online.version);
  }
}

/**
 * Runs a migration's online part on one dedicated connection, outside any transaction, under a
 * session advisory lock on the same key as migrate()'s transaction lock (they share one lock
 * space), then records its version. Returns false when another process finished it meanwhile.
 */
async function applyOnline(
  db: Queryable,
  where: { schema: string; versions: string; lockKey: string },
  migration: TrackMigration,
  polite: PoliteLocks,
  o: { logger?: Logger | undefined; clock?: Clock | undefined },
): Promise<boolean> {
  const { logger } = o;
  const { schema, versions, lockKey } = where;
  const s = quoteSchema(schema);
  return onOneConnection(db, async (run) => {
    await run(`select pg_advisory_lock(hashtext($1))`, [lockKey]);
    try {
      const [again] = await run(`select 1 from ${versions} where version = $1`, [migration.version]);
      if (again) return false;
      // An interrupted CREATE INDEX CONCURRENTLY leaves an invalid index that "if not exists"
      // would then keep forever: drop it so the step builds it again.
      const invalid = await run<{ name: string }>(
        `select format('%I.%I', n.nspname, c.relname) as name
           from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
          where not i.indisvalid and n.nspname = $1`,
        [schema],
      );
      for (const { name } of invalid) await run(`drop index concurrently if exists ${name}`);
      for (const [index, step] of (migration.online?.(s, 'concurrently') ?? []).entries()) {
        const started = performance.now();
        await guarded(migration, () =>
          step.exclusive
            ? exclusiveStep(run, step, polite)
            : runStep(run, step, () => sleep(o.clock, ONLINE_BATCH_PAUSE_MS)),
        );
        // Per step, so a slow migrate under load says where it waited (an index build waits for
        // every open transaction; a batched move shares the database with the running relays).
        logger?.debug(
          { version: migration.version, step: index + 1, ms: Math.round(performance.now() - started) },
          `migration ${migration.version} online step ${index + 1}: ${step.sql.trim().split('\n')[0]!.slice(0, 80)}`,
        );
      }
      await record(run, versions, migration);
      return true;
    } finally {
      await run(`select pg_advisory_unlock(hashtext($1))`, [lockKey]);
    }
  });
}

/**
 * Pause between two batches of a repeated online step (the move of delivered rows): the running
 * relays get the database back for a while, as gh-ost's and pt-online-schema-change's chunk
 * pauses do. A fixed pause rather than one in proportion to the batch: under load a batch takes
 * longer and the pause does not, so `migrate` under load stays near 2x its idle time while the
 * old relays get the pauses to themselves (docs/upgrading.md has the numbers).
 */
const ONLINE_BATCH_PAUSE_MS = 100;

/** Runs one online step; a batched one again while a batch comes back full, `pause` between batches. */
async function runStep(run: RunSql, step: OnlineStep, pause?: () => Promise<void>): Promise<void> {
  const batch = step.batchRows;
  if (batch === undefined) {
    await run(step.sql);
    return;
  }
  // Each batch is its own autocommit statement: no lock is held between batches.
  while ((await run(step.sql)).length >= batch) {
    await pause?.();
  }
}

/** A step that takes an ACCESS EXCLUSIVE lock: its own short transaction, polite about the lock. */
async function exclusiveStep(run: RunSql, step: OnlineStep, polite: PoliteLocks): Promise<void> {
  await polite.retry(async () => {
    await run('begin');
    try {
      await polite.limit(run);
      await run(step.sql);
      await run('commit');
    } catch (error) {
      await run('rollback').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Records `migration` as applied, with the oldest relay build that may still claim after it
 * (`relays_from`, read by the claim's fence): its own version unless it says the previous
 * release's relays may run after it (`previousRelays.after`), then the previous row's value.
 */
async function record(run: RunSql, versions: string, migration: TrackMigration): Promise<void> {
  const olderRelaysMayStay = (migration as Partial<Migration>).previousRelays?.after === true;
  await run(
    `insert into ${versions} (version, name, relays_from)
     values ($1, $2, case when $3::boolean
       then coalesce((select coalesce(p.relays_from, p.version) from ${versions} p
                       where p.version < $1 order by p.version desc limit 1), $1)
       else $1 end)
     on conflict (version) do nothing`,
    [migration.version, migration.name, olderRelaysMayStay],
  );
}

async function guarded<T>(migration: TrackMigration, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof OutboxError && error.code === 'MIGRATION_LOCK_TIMEOUT') throw error;
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
  return (await readSchemaState(db, options)).version;
}
