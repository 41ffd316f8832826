// The `outbox-relay/inbox` entry: the receiving side. Exactly-once effects on top of the relay's
// at-least-once delivery, for webhooks (node:http, Express, Fastify) and NATS JetStream.
export {
  createInbox,
  DEFAULT_OUT_OF_ORDER_RETRY_MS,
  type Inbox,
  type InboxCounters,
  type InboxHandler,
  type InboxMessage,
  type InboxOptions,
  type InboxResult,
  type InboxStats,
  MAX_INBOX_ID_LENGTH,
} from './create-inbox.js';
export {
  createWebhookReceiver,
  DEFAULT_INBOX_MAX_BODY_BYTES,
  type InboxWebhook,
  type InboxWebhookReply,
  type WebhookReceiver,
  type WebhookReceiverOptions,
} from './create-webhook-receiver.js';
export { InboxTransactionError } from './inbox-errors.js';
export { type InboxTableStats, inboxStats } from './inbox-stats.js';
export {
  INBOX_ORDERING_KEY_HEADER,
  INBOX_PREVIOUS_SEQUENCE_HEADER,
  INBOX_SEQUENCE_HEADER,
  INBOX_TYPE_HEADER,
  type InboxHeaderSource,
  inboxWebhookHeaders,
} from './inbox-webhook-headers.js';
export { LATEST_INBOX_MIGRATION_VERSION, type MigrateInboxResult, migrateInbox } from './migrate-inbox.js';
export {
  DEFAULT_INBOX_PRUNE_BATCH_SIZE,
  INBOX_RETENTION_DAYS,
  type PruneInboxOptions,
  type PruneInboxResult,
  pruneInbox,
} from './prune-inbox.js';
export {
  createJetStreamInbox,
  DEFAULT_JETSTREAM_NAK_DELAY_MS,
  type JetStreamInbox,
  type JetStreamInboxOptions,
  type JetStreamInboxOutcome,
} from './create-jetstream-inbox.js';
