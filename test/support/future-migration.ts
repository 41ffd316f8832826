import { LATEST_MIGRATION_VERSION, type Migration } from '../../src/core/migrations/index.js';

/**
 * A migration a later release might bring (version LATEST + 1): relays of this build do not
 * know it, so once it is applied they must stop claiming (the schema fence).
 *
 * @example
 * await migrate(pool, { schema, migrations: [...MIGRATIONS, FUTURE_MIGRATION] });
 */
export const FUTURE_MIGRATION: Migration = {
  version: LATEST_MIGRATION_VERSION + 1,
  name: 'future',
  previousRelays: { during: true, after: false, note: 'a test migration' },
  sql: (s) => `comment on table ${s}.messages is 'migrated by a later release'`,
};
