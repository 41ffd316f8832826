// The `outbox-relay/webhook` entry: Standard Webhooks delivery and the receiver-side verifier.
export { DEFAULT_MAX_RETRY_AFTER_MS, parseRetryAfter } from './retry-after.js';
export {
  DEFAULT_SIGNATURE_HEADERS,
  githubSignature,
  type SignatureScheme,
  type SignInput,
  signWebhook,
  standardSignature,
  stripeSignature,
} from './sign.js';
export {
  classifyAddress,
  SsrfBlockedError,
  SsrfGuard,
  type SsrfPolicy,
  type SsrfRefusal,
} from './ssrf-guard.js';
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  type StandardVerifiedWebhook,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from './verify-webhook.js';
export {
  DEFAULT_CONNECTIONS_PER_ORIGIN,
  DEFAULT_ERROR_BODY_BYTES,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_WEBHOOK_CONNECT_TIMEOUT_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  type ResolveWebhookUrl,
  type SignatureSchemeOption,
  type WebhookPublisherOptions,
} from './webhook-options.js';
export {
  type DisabledWebhookEndpoint,
  type WebhookDeliveryResult,
  WebhookPublisher,
} from './webhook-publisher.js';
export {
  classifyWebhookResponse,
  type WebhookResponseHeaders,
  type WebhookVerdict,
} from './webhook-response.js';
export {
  MAX_WEBHOOK_SECRET_BYTES,
  MIN_WEBHOOK_SECRET_BYTES,
  WEBHOOK_SECRET_PREFIX,
  WebhookSecret,
} from './webhook-secret.js';
