/**
 * Migrations: numbered, forward-only, idempotent schema changes that `migrate` applies under an
 * advisory lock. A released migration is frozen; runtime statements live in ../store.
 *
 * @example
 * import { migrate } from '../migrations/index.js';
 */
export { LATEST_MIGRATION_VERSION, type MigrateResult, migrate, schemaVersion } from './migrate.js';
export type { Migration, OnlineStep } from './migration.js';
export { MIGRATIONS } from './migration-list.js';
