import type { Queryable } from '../core/foundation/queryable.js';
import { type MigrationTrack, migrateTrack, type TrackMigration } from '../core/migrations/migrate.js';

/** The inbox's own migration track. */
const INBOX_TRACK: MigrationTrack = { table: 'inbox_migrations', lock: 'outbox-relay:migrate-inbox' };

// The inbox's tables live beside (or without) the outbox's, but on their own version track
// (`inbox_migrations`): a service that only receives never runs the outbox migrations.
// Shipped steps are frozen, new ones append.
const INBOX_MIGRATIONS: readonly TrackMigration[] = [
  {
    version: 1,
    name: 'inbox',
    sql: (s: string) => `
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
  // The outbox's migration runner on a track of its own: its own versions table and lock, so an
  // inbox migration never waits for (or blocks) an outbox migration.
  const { applied, version } = await migrateTrack(db, INBOX_TRACK, INBOX_MIGRATIONS, options);
  return { applied, version };
}
