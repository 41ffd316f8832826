/**
 * Migrations: numbered, forward-only, idempotent schema changes that `migrate` applies under an
 * advisory lock. A released migration is frozen; runtime statements live in ../store.
 *
 * @example
 * import { migrate } from '../migrations/index.js';
 */
export {
  DEFAULT_MIGRATE_LOCK_BUDGET_MS,
  DEFAULT_MIGRATE_LOCK_TIMEOUT_MS,
  LATEST_MIGRATION_VERSION,
  type MigrateOptions,
  type MigrateResult,
  migrate,
  schemaVersion,
} from './migrate.js';
export type { Migration, OnlineStep, PreviousRelays } from './migration.js';
export { readSchemaState, type SchemaFit, type SchemaState, schemaFit } from './schema-state.js';
export { MIGRATIONS } from './migration-list.js';
