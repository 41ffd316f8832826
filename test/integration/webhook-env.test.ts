import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaults, loadConfig } from '../../src/cli/config/load-config.js';
import { buildPublishers } from '../../src/cli/runtime/build-publishers.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// Seed 004's OUTBOX_WEBHOOK_SECRET: a plain shared secret, not whsec_.
const PLAIN = 'apapacho-plain-shared-secret-2025';
const AS_WHSEC = `whsec_${Buffer.from(PLAIN).toString('base64')}`;

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver({ secrets: [AS_WHSEC], toleranceSeconds: 10 ** 10 });
});
afterAll(() => receiver.close());

async function send(env: Record<string, string>) {
  const { config } = loadConfig({
    OUTBOX_PUBLISHER_TYPE: 'webhook',
    OUTBOX_WEBHOOK_URL: `${receiver.url}/hooks`,
    OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const publishers = await buildPublishers(config, { logger: NOOP_LOGGER });
  const message = makeTestMessage();
  try {
    await publishers.webhook!.publish(message, testContext());
  } finally {
    await publishers.webhook!.close?.();
  }
  return receiver.requests.find((r) => r.id === message.messageId)!;
}

describe('webhook secret and signature from env', () => {
  it('signs with a plain OUTBOX_WEBHOOK_SECRET as raw key bytes (Standard Webhooks verifies it)', async () => {
    const got = await send({ OUTBOX_WEBHOOK_SECRET: PLAIN });
    expect(got.verified).toBe(true);
  });

  it('picks the scheme with OUTBOX_WEBHOOK_SIGNATURE (github: sha256 of the body with the secret)', async () => {
    const got = await send({ OUTBOX_WEBHOOK_SECRET: PLAIN, OUTBOX_WEBHOOK_SIGNATURE: 'github' });
    const expected = createHmac('sha256', PLAIN).update(got.body).digest('hex');
    expect(got.headers['x-hub-signature-256']).toBe(`sha256=${expected}`);
    expect(got.headers['webhook-signature']).toBeUndefined();
  });

  it('refuses a plain secret shorter than 24 bytes, saying why and never echoing it', () => {
    expect(() => loadConfig({ OUTBOX_WEBHOOK_SECRET: 'tu_secret' })).toThrow(
      'OUTBOX_WEBHOOK_SECRET is a plain secret of 9 bytes; it needs at least 24',
    );
    try {
      loadConfig({ OUTBOX_WEBHOOK_SECRET: 'tu_secret' });
    } catch (error) {
      expect(String(error)).not.toContain('tu_secret');
    }
    expect(defaults({ isTty: false }).webhookSignature).toBe('standard');
  });
});
