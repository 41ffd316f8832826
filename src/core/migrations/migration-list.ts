import { messagesMigration } from './0001-messages.js';
import { devicesMigration } from './0002-devices.js';
import { jobsMigration } from './0003-jobs.js';
import { deadReasonMigration } from './0004-dead-reason.js';
import { routeIndexMigration } from './0005-route-index.js';
import { deliveredAtIndexMigration } from './0006-delivered-at-index.js';
import { storageV2Migration } from './0007-storage-v2.js';
import { attemptLogMigration } from './0008-attempt-log.js';
import { destinationsMigration } from './0009-destinations.js';
import { destinationLimitsMigration } from './0010-destination-limits.js';
import { dropV1IndexesMigration } from './0011-drop-v1-indexes.js';
import type { Migration } from './migration.js';

/** Every migration, in version order. Append new ones; never edit a released one (it is frozen:
 * it keeps its own SQL, and no runtime code imports it). */
export const MIGRATIONS: readonly Migration[] = [
  messagesMigration,
  devicesMigration,
  jobsMigration,
  deadReasonMigration,
  routeIndexMigration,
  deliveredAtIndexMigration,
  storageV2Migration,
  attemptLogMigration,
  destinationsMigration,
  destinationLimitsMigration,
  dropV1IndexesMigration,
];

/** The newest migration version this build of outbox-relay knows. */
export const LATEST_MIGRATION_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
