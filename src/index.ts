/**
 * outbox-relay: write events and device commands in your PostgreSQL transaction,
 * deliver them reliably through publishers.
 *
 * @example
 * import { createOutbox, createRelay, migrate, ConsolePublisher } from 'outbox-relay';
 */
export * from './core/index.js';
export { ConsolePublisher, type ConsolePublisherOptions } from './publishers/console/index.js';
// Receiver-side webhook verification is light (node:crypto only); the publisher itself lives
// on `outbox-relay/webhook` so apps that do not send webhooks never load undici.
export type { SignatureScheme } from './publishers/webhook/sign.js';
export {
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  type StandardVerifiedWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from './publishers/webhook/verify-webhook.js';
