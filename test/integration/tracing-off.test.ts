import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// A file of its own: vitest runs each file in a fresh worker, where no tracer provider is
// registered (tracing.test.ts registers one for its whole process).
let t: TestDatabase;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await t?.close();
});

it('with no tracer provider writes no trace context, sends none, and delivers as always', async () => {
  const outbox = createOutbox({ schema: t.schema });
  const messageId = await outbox.add(t.db, { type: 'order.created', destination: 'webhook', payload: {} });
  const { rows } = await t.pool.query(`select headers from "${t.schema}".messages where message_id = $1`, [
    messageId,
  ]);
  expect(rows[0].headers).toEqual({});
  const publisher = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    allowPrivateNetworks: true,
  });
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { webhook: publisher },
    logger: NOOP_LOGGER,
  });
  try {
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
  } finally {
    await relay.stop();
  }
  expect(receiver.requests[0]!.headers.traceparent).toBeUndefined();
});
