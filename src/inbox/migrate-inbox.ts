import { describeError, OutboxError } from '../core/foundation/errors.js';
import { type Queryable, withTransaction } from '../core/foundation/queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../core/foundation/schema-name.js';

/** One step of the inbox's own migration track; shipped steps are frozen, new ones append. */
interface InboxMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: (s: string) => string;
}

// The inbox's tables live beside (or without) the outbox's, but on their own version track
// (`inbox_migrations`): a service that only receives never runs the outbox migrations.
const INBOX_MIGRATIONS: readonly InboxMigration[] = [
  {
    version: 1,
    name: 'inbox',
    sql: (s) => `
      create table if not exists ${s}.inbox_messages (
        -- text, not uuid: the relay sends uuids, but any sender's stable id deduplicates
        message_id text primary key,
        type text,
        ordering_key text,
        received_at timestamptz not null
      );
      -- pruneInbox walks this index oldest first, in batches: never a sequential scan
      create index if not exists inbox_messages_received_at_idx on ${s}.inbox_messages (received_at);
      -- per-key order: the last applied sequence of each ordering key (one row per key)
      create table if not exists ${s}.inbox_keys (
        ordering_key text primary key,
        last_sequence bigint not null,
        updated_at timestamptz not null
      );`,
  },
];

/** The newest inbox migration version this build knows. */
export const LATEST_INBOX_MIGRATION_VERSION = Math.max(...INBOX_MIGRATIONS.map((m) => m.version));

/**
 * What `migrateInbox` did.
 *
 * @example
 * const { applied } = await migrateInbox(pool); if (applied.length) console.log('inbox migrated');
 */
export interface MigrateInboxResult {
  /** Versions applied by this call (empty when already current). */
  readonly applied: readonly number[];
  /** The inbox's version after the call. */
  readonly version: number;
}

/**
 * Creates or upgrades the inbox tables (`inbox_messages`, `inbox_keys`) in `schema`
 * (default `outbox`), tracked in their own `inbox_migrations` table. Safe to run from many
 * processes at once (one transaction-scoped advisory lock per schema) and a no-op when current.
 *
 * @example
 * await migrateInbox(db, { schema: 'billing' }); // { applied: [1], version: 1 } the first time
 */
export async function migrateInbox(
  db: Queryable,
  options: { readonly schema?: string } = {},
): Promise<MigrateInboxResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schema);
  return withTransaction(db, async (run) => {
    // Its own lock key: an inbox migration never waits for (or blocks) an outbox migration.
    await run(`select pg_advisory_xact_lock(hashtext($1))`, [`outbox-relay:migrate-inbox:${schema}`]);
    await run(`create schema if not exists ${s}`);
    await run(
      `create table if not exists ${s}.inbox_migrations (
         version int primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    const done = new Set(
      (await run<{ version: number }>(`select version from ${s}.inbox_migrations`)).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of INBOX_MIGRATIONS) {
      if (done.has(migration.version)) continue;
      try {
        await run(migration.sql(s));
      } catch (error) {
        throw new OutboxError(
          'MIGRATION_FAILED',
          `inbox migration ${migration.version} (${migration.name}) failed: ${describeError(error)}`,
          { cause: error },
        );
      }
      await run(`insert into ${s}.inbox_migrations (version, name) values ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      done.add(migration.version);
      applied.push(migration.version);
    }
    return { applied, version: Math.max(0, ...done) };
  });
}
