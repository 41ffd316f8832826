/**
 * outbox-relay: write events and device commands in your PostgreSQL transaction,
 * deliver them reliably through publishers.
 *
 * @example
 * import { createOutbox, createRelay, migrate, ConsolePublisher } from 'outbox-relay';
 */
export {
  cleanupDelivered,
  DEFAULT_CLEANUP_BATCH_SIZE,
  type CleanupResult,
} from './core/maintenance/cleanup-delivered.js';
export { type Clock, SystemClock } from './core/foundation/clock.js';
export {
  type DeadFilter,
  type DeadSelector,
  getMessage,
  listDead,
  purgeDead,
  replayDead,
  type StoredMessage,
} from './core/maintenance/dead-letters.js';
export {
  ConfigError,
  describeError,
  OutboxError,
  type OutboxErrorCode,
  OutboxValidationError,
  PermanentPublishError,
  TransientPublishError,
} from './core/foundation/errors.js';
export { type Logger, NOOP_LOGGER } from './core/foundation/logger.js';
export type { MessageKind, MessageStatus, OutboxMessage } from './core/foundation/message.js';
export {
  LATEST_MIGRATION_VERSION,
  type MigrateResult,
  migrate,
  schemaVersion,
} from './core/migrations/migrate.js';
export type { Migration } from './core/migrations/migration.js';
export {
  createOutbox,
  DEFAULT_DESTINATION,
  DEFAULT_MAX_ATTEMPTS,
  type EventMap,
  type NewCommand,
  type NewMessage,
  type Outbox,
  type OutboxOptions,
} from './core/producer/outbox.js';
export { getStats, type OutboxStats } from './core/maintenance/outbox-stats.js';
export type { Queryable } from './core/foundation/queryable.js';
export {
  createRelay,
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_LEASE_MS,
  DEFAULT_POLL_INTERVAL_MS,
  type DeliveredInfo,
  type Relay,
  type RelayCounters,
  type RelayEvents,
  type RelayOptions,
  type RoundResult,
} from './core/relay/relay.js';
export { backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './core/relay/retry-policy.js';
export { DEFAULT_SCHEMA } from './core/foundation/schema-name.js';
export { uuidV7 } from './core/producer/uuid-v7.js';
export { MAX_PAYLOAD_BYTES } from './core/producer/validate-message.js';
export { ConsolePublisher, type ConsolePublisherOptions } from './publishers/console/index.js';
export type { Publisher, PublishContext } from './core/foundation/publisher.js';
// Receiver-side webhook verification is light (node:crypto only); the publisher itself lives
// on `outbox-relay/webhook` so apps that do not send webhooks never load undici.
export type { SignatureScheme } from './publishers/webhook/sign.js';
export {
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from './publishers/webhook/verify-webhook.js';
