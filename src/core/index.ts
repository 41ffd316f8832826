/**
 * The core's public face: what `outbox-relay` exports from its rooms. Each room has an
 * `index.ts` of its own: foundation (errors, Clock, Logger, Publisher, database handles),
 * producer (`createOutbox`), relay (`createRelay`), store (every SQL statement outside
 * migrations), maintenance (cleanup, dead letters, stats) and migrations (`migrate`).
 *
 * @example
 * import { createOutbox, createRelay, migrate } from './core/index.js';
 */
export {
  AGGREGATE_ID_HEADER,
  AGGREGATE_TYPE_HEADER,
  BODY_FORMATS,
  type BodyFormat,
  type Clock,
  ConfigError,
  DEFAULT_CLOUDEVENTS_SOURCE,
  formatBody,
  describeError,
  guardConnectionErrors,
  type JsonEvents,
  type Jsonable,
  type JsonValue,
  type Logger,
  type MessageKind,
  type MessageStatus,
  NOOP_LOGGER,
  OutboxError,
  type OutboxErrorCode,
  type OutboxMessage,
  OutboxValidationError,
  PermanentPublishError,
  type PublishContext,
  type Publisher,
  type Queryable,
  SystemClock,
  TransientPublishError,
} from './foundation/index.js';
export { DEFAULT_SCHEMA } from './foundation/schema-name.js';
export {
  type CleanupResult,
  cleanupDelivered,
  DEFAULT_CLEANUP_BATCH_SIZE,
  type DeadFilter,
  type DeadSelector,
  getMessage,
  getStats,
  listDead,
  type OutboxStats,
  purgeDead,
  replayDead,
  type StoredMessage,
} from './maintenance/index.js';
export {
  DEFAULT_MIGRATE_LOCK_BUDGET_MS,
  DEFAULT_MIGRATE_LOCK_TIMEOUT_MS,
  LATEST_MIGRATION_VERSION,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  migrate,
  schemaVersion,
} from './migrations/index.js';
export {
  createOutbox,
  DEFAULT_DESTINATION,
  DEFAULT_MAX_ATTEMPTS,
  type DestinationOf,
  type EventMap,
  MAX_PAYLOAD_BYTES,
  type NewCommand,
  type NewMessage,
  type Outbox,
  type OutboxOptions,
  type Route,
  uuidV7,
} from './producer/index.js';
export {
  backoffDelayMs,
  createRelay,
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_LEASE_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_RETRY_POLICY,
  RETRY_POLICY_BOUNDS,
  type DeliveredInfo,
  type Relay,
  type RelayCounters,
  type RelayEvents,
  type RelayHints,
  type RelayOptions,
  type RetryPolicy,
  type RoundResult,
} from './relay/index.js';
