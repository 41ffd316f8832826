import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type CloudEvent, HTTP } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsTestServer } from '../../bench/support/nats-server.js';
import { loadConfig } from '../../src/cli/config/load-config.js';
import { buildPublishers } from '../../src/cli/runtime/build-publishers.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import type { OutboxMessage } from '../../src/core/foundation/message.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';
import { readStream } from '../support/nats-stream.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PAYLOAD = { payoutId: 'po_1', amount: 20000 };
const CREATED = new Date('2025-12-27T18:00:00.000Z');

const message = (overrides: Partial<OutboxMessage> = {}) =>
  makeTestMessage({
    type: 'payout.calculated',
    payload: PAYLOAD,
    orderingKey: 'po_1',
    tenantId: 'acme',
    createdAt: CREATED,
    ...overrides,
  });

let receiver: WebhookReceiver;
let nats: Awaited<ReturnType<typeof natsTestServer>>;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  nats = await natsTestServer();
});
afterAll(async () => {
  await receiver.close();
  await nats.close();
});

/** Sends `m` through the webhook publisher the binary builds from `env`; the request the receiver got. */
async function viaWebhook(env: Record<string, string>, m: OutboxMessage) {
  const { config } = loadConfig({
    OUTBOX_PUBLISHER_TYPE: 'webhook',
    OUTBOX_WEBHOOK_URL: `${receiver.url}/hooks`,
    OUTBOX_WEBHOOK_SECRET: SECRET,
    OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const publishers = await buildPublishers(config, { logger: NOOP_LOGGER });
  try {
    await publishers.webhook!.publish(m, testContext());
  } finally {
    await publishers.webhook!.close?.();
  }
  const got = receiver.requests.find((r) => r.id === m.messageId)!;
  // The official Standard Webhooks verifier accepts whatever body was sent.
  new Webhook(SECRET).verify(got.body, got.headers as Record<string, string>);
  return got;
}

describe('webhook body formats (OUTBOX_WEBHOOK_FORMAT)', () => {
  it('payload: the stored body byte for byte, as before', async () => {
    const m = message();
    const got = await viaWebhook({}, m);
    expect(got.body).toBe(m.body);
    expect(got.headers['content-type']).toBe('application/json');
  });

  it('envelope: seed 004’s { id, type, aggregateType, aggregateId, payload, occurredAt }', async () => {
    const m = message();
    const got = await viaWebhook({ OUTBOX_WEBHOOK_FORMAT: 'envelope' }, m);
    expect(JSON.parse(got.body)).toEqual({
      id: m.messageId,
      type: 'payout.calculated',
      aggregateType: 'payout',
      aggregateId: 'po_1',
      payload: PAYLOAD,
      occurredAt: '2025-12-27T18:00:00.000Z',
    });
  });

  it('envelope: aggregate-type / aggregate-id headers override the mapping', async () => {
    const m = message({
      type: 'PayoutCalculated',
      headers: { 'aggregate-type': 'Payout', 'aggregate-id': 'p-9' },
    });
    const got = await viaWebhook({ OUTBOX_WEBHOOK_FORMAT: 'envelope' }, m);
    expect(JSON.parse(got.body)).toMatchObject({ aggregateType: 'Payout', aggregateId: 'p-9' });
  });

  it('cloudevents: a valid CloudEvents 1.0 structured event, read by the official SDK', async () => {
    const m = message();
    const got = await viaWebhook(
      { OUTBOX_WEBHOOK_FORMAT: 'cloudevents', OUTBOX_CLOUDEVENTS_SOURCE: '/payouts' },
      m,
    );
    expect(got.headers['content-type']).toBe('application/cloudevents+json');
    const read = HTTP.toEvent({ headers: got.headers, body: got.body });
    expect(Array.isArray(read)).toBe(false);
    const event = read as CloudEvent<unknown>;
    expect(event.validate()).toBe(true);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: m.messageId,
      source: '/payouts',
      type: 'payout.calculated',
      time: '2025-12-27T18:00:00.000Z',
      subject: 'po_1',
      tenantid: 'acme',
      data: PAYLOAD,
    });
  });
});

describe('NATS body formats (NATS_FORMAT)', () => {
  it('publishes CloudEvents with their content type, and payload unchanged', async () => {
    const id = randomBytes(4).toString('hex');
    const nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.add({ name: `F_${id}`, subjects: [`f${id}.>`] });
    await nc.close();
    const sent: OutboxMessage[] = [];
    for (const format of ['cloudevents', 'payload', 'envelope']) {
      const { config } = loadConfig({
        OUTBOX_PUBLISHER_TYPE: 'nats',
        NATS_URL: nats.url,
        NATS_SUBJECT_PREFIX: `f${id}`,
        NATS_FORMAT: format,
      });
      const publishers = await buildPublishers(config, { logger: NOOP_LOGGER });
      const m = message();
      sent.push(m);
      try {
        await publishers.nats!.publish(m, testContext());
      } finally {
        await publishers.nats!.close?.();
      }
    }
    const [ce, plain, envelope] = await readStream(nats.url, `F_${id}`);
    expect(ce!.headers['Content-Type']).toBe('application/cloudevents+json');
    const event = HTTP.toEvent({ headers: { 'content-type': ce!.headers['Content-Type']! }, body: ce!.body });
    if (Array.isArray(event)) throw new Error('expected one event');
    expect(event).toMatchObject({ id: sent[0]!.messageId, source: '/outbox-relay', data: PAYLOAD });
    expect(plain!.body).toBe(sent[1]!.body);
    expect(plain!.headers['Content-Type']).toBeUndefined();
    expect(JSON.parse(envelope!.body)).toMatchObject({ id: sent[2]!.messageId, aggregateId: 'po_1' });
  });
});
