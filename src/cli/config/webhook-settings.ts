import { BODY_FORMATS, DEFAULT_CLOUDEVENTS_SOURCE } from '../../core/foundation/body-format.js';
import { SIGNATURE_SCHEMES } from '../../publishers/webhook/sign.js';
import { flag, httpUrl, oneOf, text, webhookSecrets } from './setting-parsers.js';
import { hidden, setting } from './setting.js';

/**
 * The settings of the webhook publisher (`OUTBOX_PUBLISHER_TYPE=webhook`), part of `SETTINGS`
 * in help order.
 */
export const WEBHOOK_SETTINGS = {
  webhookUrl: setting({
    env: 'OUTBOX_WEBHOOK_URL',
    flag: 'webhook-url',
    parse: httpUrl,
    default: undefined,
    description: 'webhook endpoint (required with the webhook publisher)',
  }),
  webhookSecrets: setting({
    env: 'OUTBOX_WEBHOOK_SECRET',
    flag: 'webhook-secret',
    parse: webhookSecrets,
    default: [],
    redact: hidden,
    description:
      'whsec_<base64> signing secret(s) of 24..64 bytes (or a plain secret of at least 24 bytes, used as raw key bytes), comma-separated for rotation (current first)',
  }),
  webhookAllowPrivate: setting({
    env: 'OUTBOX_WEBHOOK_ALLOW_PRIVATE',
    flag: 'webhook-allow-private',
    parse: flag,
    default: false,
    description:
      'let webhooks reach loopback/private addresses (the SSRF guard refuses them otherwise: a private OUTBOX_WEBHOOK_URL exits 2 at start)',
  }),
  webhookFormat: setting({
    env: 'OUTBOX_WEBHOOK_FORMAT',
    flag: 'webhook-format',
    parse: oneOf(BODY_FORMATS),
    default: 'payload',
    description: `webhook request body: ${BODY_FORMATS.join(', ')} (payload = as stored; envelope = seed 004's shape; cloudevents = CloudEvents 1.0 JSON)`,
  }),
  cloudEventsSource: setting({
    env: 'OUTBOX_CLOUDEVENTS_SOURCE',
    flag: 'cloudevents-source',
    parse: text({
      min: 1,
      max: 2000,
      rule: 'a URI-reference such as /billing or https://example.com/billing',
    }),
    default: undefined,
    description: `CloudEvents \`source\` of the cloudevents format (unset: ${DEFAULT_CLOUDEVENTS_SOURCE})`,
  }),
  webhookSignature: setting({
    env: 'OUTBOX_WEBHOOK_SIGNATURE',
    flag: 'webhook-signature',
    parse: oneOf(SIGNATURE_SCHEMES),
    default: 'standard',
    description: `how webhooks are signed: ${SIGNATURE_SCHEMES.join(', ')} (standard = Standard Webhooks; stripe/github key the HMAC with the secret text as given)`,
  }),
};
