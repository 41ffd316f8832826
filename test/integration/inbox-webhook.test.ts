import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import type { OutboxMessage } from '../../src/core/foundation/message.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import {
  createInbox,
  createWebhookReceiver,
  type Inbox,
  inboxWebhookHeaders,
  migrateInbox,
  type WebhookReceiverOptions,
} from '../../src/inbox/index.js';
import { standardSignature } from '../../src/publishers/webhook/sign.js';
import type { WebhookPublisherOptions } from '../../src/publishers/webhook/webhook-options.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { WebhookSecret } from '../../src/publishers/webhook/webhook-secret.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkh';

let t: TestDatabase;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 20 });
  await migrateInbox(t.db, { schema: t.schema });
  await t.pool.query(
    `create table "${t.schema}".applied (n serial primary key, account text not null, amount int not null, message_id text not null)`,
  );
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(
    `truncate "${t.schema}".messages, "${t.schema}".messages_archive, "${t.schema}".inbox_messages, "${t.schema}".inbox_keys, "${t.schema}".applied`,
  );
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Credit {
  account: string;
  amount: number;
}

/** A node:http server around `createWebhookReceiver(...).listener`, crediting the `applied` table. */
async function receiverServer(
  options: Partial<WebhookReceiverOptions<import('pg').PoolClient>> & {
    before?: (id: string) => Promise<void>;
  } = {},
): Promise<{ url: string; inbox: Inbox; calls: string[] }> {
  const inbox = options.inbox ?? createInbox({ schema: t.schema });
  const calls: string[] = [];
  const receiver = createWebhookReceiver(t.pool, {
    inbox,
    secrets: [SECRET],
    async handler(client, webhook) {
      calls.push(webhook.id);
      await options.before?.(webhook.id);
      const { account, amount } = webhook.payload as Credit;
      await client.query(
        `insert into "${t.schema}".applied (account, amount, message_id) values ($1, $2, $3)`,
        [account, amount, webhook.id],
      );
    },
    ...options,
  });
  const server = http.createServer(receiver.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`, inbox, calls };
}

function publisher(url: string, options: Partial<WebhookPublisherOptions> = {}): WebhookPublisher {
  const webhook = new WebhookPublisher({ url, secrets: [SECRET], allowPrivateNetworks: true, ...options });
  cleanups.push(() => webhook.close());
  return webhook;
}

function relay(webhook: WebhookPublisher, extra: Partial<RelayOptions> = {}) {
  const r = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { webhook },
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
    retry: { baseDelayMs: 5, factor: 1.5, maxDelayMs: 40, jitter: 0 },
    ...extra,
  });
  cleanups.push(() => r.stop());
  r.start();
  return r;
}

async function statuses(): Promise<Record<string, number>> {
  const { rows } = await t.pool.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from "${t.schema}".all_messages group by status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function applied(): Promise<{ account: string; amount: number; message_id: string }[]> {
  const { rows } = await t.pool.query(
    `select account, amount, message_id from "${t.schema}".applied order by n`,
  );
  return rows;
}

async function storedIds(): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".inbox_messages`,
  );
  return rows[0]!.n;
}

/** Sessions blocked on a lock while inserting into this test's inbox. */
async function copiesWaiting(): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like $1`,
    [`%"${t.schema}".inbox_messages%`],
  );
  return rows[0]!.n;
}

/** A request signed like the relay signs one. */
function signed(body: string, extra: Record<string, string> = {}, id = randomUUID()): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = standardSignature(WebhookSecret.parse(SECRET), { id, timestamp, body });
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signature}`,
    ...extra,
  };
}

const outbox = () => createOutbox({ schema: t.schema });

describe('webhook receiver with the real relay', () => {
  it('applies every message once, and a handler failure answers 500 so the relay retries it', async () => {
    const failedOnce = new Set<string>();
    const server = await receiverServer({
      async before(id) {
        if (failedOnce.has(id)) return;
        failedOnce.add(id);
        throw new Error('downstream unavailable');
      },
    });
    const ids = await outbox().addMany(
      t.db,
      Array.from({ length: 20 }, (_, i) => ({
        type: 'credit',
        destination: 'webhook',
        payload: { account: `a${i % 3}`, amount: i },
      })),
    );
    relay(publisher(server.url));
    await waitFor(async () => (await statuses()).delivered === 20, '20 messages delivered');

    const rows = await applied();
    expect(rows.map((r) => r.message_id).sort()).toEqual([...ids].sort());
    expect(rows.reduce((sum, r) => sum + r.amount, 0)).toBe(190);
    // Every message's handler ran twice (a failure, then the retry); its effect exists once.
    expect(server.calls).toHaveLength(40);
    expect(server.inbox.counters()).toMatchObject({ processed: 20, failed: 20, duplicates: 0 });
  });

  it('acknowledges a copy sent again after delivery (a lost 2xx) as a duplicate, effect unchanged', async () => {
    const server = await receiverServer();
    const [id] = await outbox().addMany(t.db, [
      { type: 'credit', destination: 'webhook', payload: { account: 'a', amount: 5 } },
    ]);
    const webhook = publisher(server.url);
    relay(webhook);
    await waitFor(async () => (await statuses()).delivered === 1, 'the message delivered');
    const { rows } = await t.pool.query<{ id: string; payload_text: string }>(
      `select id::text, payload::text as payload_text from "${t.schema}".all_messages`,
    );
    const again: OutboxMessage = {
      id: rows[0]!.id,
      messageId: id!,
      kind: 'event',
      type: 'credit',
      destination: 'webhook',
      tenantId: null,
      orderingKey: null,
      payload: JSON.parse(rows[0]!.payload_text),
      body: rows[0]!.payload_text,
      headers: {},
      attempts: 2,
      maxAttempts: 25,
      createdAt: new Date(),
    };
    // The same request the relay makes when it redelivers: signed anew, same webhook-id.
    await expect(
      webhook.publish(again, { signal: AbortSignal.timeout(10_000), attempt: 2, logger: NOOP_LOGGER }),
    ).resolves.toEqual({ status: 200 });
    expect(await applied()).toHaveLength(1);
    expect(server.inbox.counters()).toMatchObject({ processed: 1, duplicates: 1 });
  });

  it('answers a copy that arrives while the first is still being applied as a duplicate, once it committed', async () => {
    let first = true;
    const server = await receiverServer({
      async before() {
        if (!first) return;
        first = false;
        // The relay's attempt times out and it sends the copy; hold this one until that copy waits on our row.
        await waitFor(
          async () => (await copiesWaiting()) === 1,
          'the retry blocked on the inbox row',
          30_000,
        );
      },
    });
    await outbox().addMany(t.db, [
      { type: 'credit', destination: 'webhook', payload: { account: 'a', amount: 7 } },
    ]);
    relay(publisher(server.url, { timeoutMs: 300 }));
    await waitFor(async () => (await statuses()).delivered === 1, 'the message delivered', 30_000);
    expect(await applied()).toHaveLength(1);
    expect(server.inbox.counters()).toMatchObject({ processed: 1, duplicates: 1 });
    const { rows } = await t.pool.query<{ attempts: number }>(
      `select attempts from "${t.schema}".all_messages`,
    );
    expect(rows[0]!.attempts).toBe(2);
  });

  it('answers 401 to a request signed with an unknown secret and writes nothing (the relay dead-letters it)', async () => {
    const server = await receiverServer();
    await outbox().addMany(t.db, [
      { type: 'credit', destination: 'webhook', payload: { account: 'a', amount: 1 } },
    ]);
    relay(publisher(server.url, { secrets: [OTHER_SECRET] }));
    await waitFor(async () => (await statuses()).dead === 1, 'the message dead-lettered');
    const { rows } = await t.pool.query<{ last_error: string }>(
      `select last_error from "${t.schema}".all_messages`,
    );
    expect(rows[0]!.last_error).toContain('answered 401');
    expect(await storedIds()).toBe(0);
    expect(server.calls).toEqual([]);

    const tampered = await fetch(server.url, {
      method: 'POST',
      headers: signed('{"account":"a","amount":1}'),
      body: '{"account":"a","amount":1000}',
    });
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toEqual({ status: 'unauthorized', reason: 'no_matching_signature' });
    expect(await storedIds()).toBe(0);
  });

  it("holds back a key's message with 503 + Retry-After until its predecessor is applied", async () => {
    const server = await receiverServer({
      inbox: createInbox({ schema: t.schema, outOfOrderRetryMs: 1_000 }),
      // Per-key versions from the signed payload: v2's predecessor is v1.
      order: (webhook) => {
        const { key, version } = webhook.payload as { key: string; version: number };
        return { orderingKey: key, sequence: version, previousSequence: version - 1 };
      },
    });
    // v2 is written first and v1 only becomes available 1.5 s later: v2 arrives first.
    await outbox().addMany(t.db, [
      {
        type: 'credit',
        destination: 'webhook',
        payload: { account: 'a', amount: 2, key: 'acct-a', version: 2 },
      },
      {
        type: 'credit',
        destination: 'webhook',
        payload: { account: 'a', amount: 1, key: 'acct-a', version: 1 },
        availableAt: new Date(Date.now() + 1_500),
      },
    ]);
    relay(publisher(server.url));
    await waitFor(async () => (await statuses()).delivered === 2, 'both delivered', 30_000);
    expect((await applied()).map((r) => r.amount)).toEqual([1, 2]);
    expect(server.inbox.counters().outOfOrder).toBeGreaterThanOrEqual(1);
    const { rows } = await t.pool.query<{ attempts: number }>(
      `select attempts from "${t.schema}".all_messages where payload->>'version' = '2'`,
    );
    expect(rows[0]!.attempts).toBeGreaterThanOrEqual(2);
  });
});

describe('webhook receiver answers', () => {
  it('sends the ordering key and row id with inboxWebhookHeaders, and answers a stale copy 200 without applying it', async () => {
    const server = await receiverServer({ order: true });
    await outbox().addMany(t.db, [
      {
        type: 'credit',
        destination: 'webhook',
        orderingKey: 'acct/a b',
        payload: { account: 'a', amount: 1 },
      },
      {
        type: 'credit',
        destination: 'webhook',
        orderingKey: 'acct/a b',
        payload: { account: 'a', amount: 2 },
      },
    ]);
    relay(publisher(server.url, { headers: inboxWebhookHeaders }));
    await waitFor(async () => (await statuses()).delivered === 2, 'both delivered');
    const { rows: keys } = await t.pool.query<{ ordering_key: string; last_sequence: string }>(
      `select ordering_key, last_sequence::text from "${t.schema}".inbox_keys`,
    );
    const { rows: ids } = await t.pool.query<{ id: string }>(
      `select id::text from "${t.schema}".all_messages order by id`,
    );
    expect(keys).toEqual([{ ordering_key: 'acct/a b', last_sequence: ids[1]!.id }]);

    // An older message of the key with an id never seen (a replayed dead letter): stale, acknowledged.
    const body = '{"account":"a","amount":100}';
    const stale = await fetch(server.url, {
      method: 'POST',
      headers: signed(body, { 'outbox-ordering-key': 'acct%2Fa%20b', 'outbox-sequence': ids[0]!.id }),
      body,
    });
    expect(stale.status).toBe(200);
    expect(await stale.json()).toEqual({ status: 'stale' });
    expect((await applied()).map((r) => r.amount)).toEqual([1, 2]);
  });

  it('answers 400 to a body that is not JSON, and 413 to one over the limit, applying neither', async () => {
    const server = await receiverServer({ maxBodyBytes: 100 });
    const notJson = await fetch(server.url, { method: 'POST', headers: signed('nope'), body: 'nope' });
    expect(notJson.status).toBe(400);
    const big = JSON.stringify({ account: 'a', amount: 1, pad: 'x'.repeat(200) });
    const tooLarge = await fetch(server.url, { method: 'POST', headers: signed(big), body: big });
    expect(tooLarge.status).toBe(413);
    expect(await storedIds()).toBe(0);
    expect(server.calls).toEqual([]);
  });
  it('answers 400 to a malformed sequence header, but 500 when the handler itself throws a validation error', async () => {
    const server = await receiverServer({
      order: true,
      async before() {
        throw new OutboxValidationError('payload', 'the handler could not use it');
      },
    });
    const body = '{"account":"a","amount":1}';
    const malformed = await fetch(server.url, {
      method: 'POST',
      headers: signed(body, { 'outbox-ordering-key': 'k', 'outbox-sequence': 'twelve' }),
      body,
    });
    expect(malformed.status).toBe(400);
    expect(server.calls).toEqual([]);
    const failing = await fetch(server.url, {
      method: 'POST',
      headers: signed(body, { 'outbox-ordering-key': 'k', 'outbox-sequence': '12' }),
      body,
    });
    expect(failing.status).toBe(500);
    expect(server.calls).toHaveLength(1);
    expect(await storedIds()).toBe(0);
  });
});
