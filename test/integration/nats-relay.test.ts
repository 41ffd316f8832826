import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import { NatsPublisher, type NatsPublisherOptions } from '../../src/publishers/nats/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { natsTestServer, startNatsServer } from '../../bench/support/nats-server.js';
import { readStream } from '../support/nats-stream.js';
import { waitFor } from '../support/recording-publisher.js';
import { childPublished, spawnRelayChild } from '../support/spawn-relay-child.js';

let t: TestDatabase;
let shared: Awaited<ReturnType<typeof natsTestServer>>;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 20 });
  shared = await natsTestServer();
});
afterAll(async () => {
  await t?.close();
  await shared?.close();
});
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const outbox = () => createOutbox({ schema: t.schema });

/** A stream of this test's own on `<prefix>.>` (file storage), removed afterwards. */
async function stream(url: string): Promise<{ name: string; prefix: string }> {
  const id = randomBytes(4).toString('hex');
  const nc = await connect({ servers: url });
  await (await jetstreamManager(nc)).streams.add({ name: `R_${id}`, subjects: [`r${id}.>`] });
  await nc.close();
  cleanups.push(async () => {
    const c = await connect({ servers: url }).catch(() => undefined);
    if (!c) return;
    await (await jetstreamManager(c)).streams.delete(`R_${id}`).catch(() => undefined);
    await c.close();
  });
  return { name: `R_${id}`, prefix: `r${id}` };
}

function nats(url: string, options: Partial<NatsPublisherOptions> = {}): NatsPublisher {
  const publisher = new NatsPublisher({ servers: url, ...options });
  cleanups.push(() => publisher.close());
  return publisher;
}

function relayWith(publisher: NatsPublisher, extra: Partial<RelayOptions> = {}) {
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { [publisher.name]: publisher },
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
    retry: { baseDelayMs: 5, factor: 1.5, maxDelayMs: 200, jitter: 0 },
    ...extra,
  });
  cleanups.push(() => relay.stop());
  return relay;
}

async function count(where: string): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".all_messages where ${where}`,
  );
  return rows[0]!.n;
}

// Generous deadlines: the machine running the suite may be busy; these wait for an outcome, they time nothing.
async function allDelivered(total: number, timeoutMs = 200_000): Promise<void> {
  await waitFor(
    async () => (await count(`status = 'delivered'`)) === total,
    `${total} rows delivered`,
    timeoutMs,
  );
}

/** Checks each message id arrived once, and each ordering key's messages in order on each subject. */
function expectOncePerIdInKeyOrder(
  messages: Awaited<ReturnType<typeof readStream>>,
  ids: readonly string[],
): void {
  expect(messages.length).toBe(ids.length);
  expect(new Set(messages.map((m) => m.msgId))).toEqual(new Set(ids));
  const last = new Map<string, number>();
  for (const m of messages) {
    const { n } = JSON.parse(m.body) as { n: number };
    const key = `${m.subject}|${m.orderingKey}`;
    expect(n, `order of ${key}`).toBeGreaterThan(last.get(key) ?? -1);
    last.set(key, n);
  }
}

/** `total` messages over `keys` ordering keys and two types (subjects), `n` rising per key. */
function orderedMessages(total: number, keys: number) {
  return Array.from({ length: total }, (_, i) => ({
    type: i % 2 === 0 ? 'order.created' : 'order.paid',
    destination: 'nats',
    orderingKey: `k${i % keys}`,
    payload: { n: i },
    maxAttempts: 1_000,
  }));
}

it('delivers 10,000 messages to JetStream, each exactly once, in per-key order per subject', async () => {
  const { name, prefix } = await stream(shared.url);
  const ids = await outbox().addMany(t.db, orderedMessages(10_000, 500));
  const relay = relayWith(nats(shared.url, { subjectPrefix: prefix }));
  relay.start();
  await allDelivered(ids.length);
  await relay.stop();

  const messages = await readStream(shared.url, name);
  expectOncePerIdInKeyOrder(messages, ids);
  expect(new Set(messages.map((m) => m.subject))).toEqual(
    new Set([`${prefix}.order.created`, `${prefix}.order.paid`]),
  );
  const { rows } = await t.pool.query(`select result from "${t.schema}".all_messages order by id limit 1`);
  expect(rows[0].result).toMatchObject({ stream: name, duplicate: false });
}, 240_000);

it('loses nothing when nats-server is killed mid-run and restarted on its file store', async () => {
  const own = await startNatsServer();
  cleanups.push(() => own.close());
  const { name, prefix } = await stream(own.url);
  const ids = await outbox().addMany(t.db, orderedMessages(3_000, 300));
  const publisher = nats(own.url, { subjectPrefix: prefix, timeoutMs: 500, reconnectWaitMs: 50 });
  const relay = relayWith(publisher, { concurrency: 16 });
  let delivered = 0;
  let failed = 0;
  relay.on('delivered', () => delivered++);
  relay.on('failed', () => failed++);
  relay.start();
  await waitFor(() => delivered >= 300, 'some deliveries before the kill');
  await own.stop('SIGKILL');
  const failedBefore = failed;
  await waitFor(() => failed > failedBefore + 20, 'publishes failing while nats-server is down');
  expect(delivered).toBeLessThan(ids.length);
  await own.start();
  await allDelivered(ids.length);
  await relay.stop();

  expect(await count(`status = 'dead'`)).toBe(0);
  expectOncePerIdInKeyOrder(await readStream(own.url, name), ids);
}, 240_000);

it('dead-letters a subject without stream, an oversize message and a denied subject, with the reason', async () => {
  const own = await startNatsServer({
    config: `max_payload: 4096
      authorization { users = [ { user: relay, password: pw, permissions: { publish: { allow: ["ok.>", "nowhere.>", "$JS.API.>"], deny: ["secret.>"] } } } ] }`,
  });
  cleanups.push(() => own.close());
  const admin = await connect({ servers: own.url, user: 'relay', pass: 'pw' });
  const jsm = await jetstreamManager(admin);
  await jsm.streams.add({ name: 'OK', subjects: ['ok.>'] });
  await jsm.streams.add({ name: 'SECRET', subjects: ['secret.>'] });
  await admin.close();

  const [good, noStream, oversize, denied] = await outbox().addMany(t.db, [
    { type: 'fine', destination: 'nats:ok.fine', payload: { ok: true } },
    { type: 'lost', destination: 'nats:nowhere.x', payload: {} },
    { type: 'big', destination: 'nats:ok.big', payload: { blob: 'x'.repeat(5_000) } },
    { type: 'secret', destination: 'nats:secret.x', payload: {} },
  ]);
  const relay = relayWith(nats(own.url, { user: 'relay', pass: 'pw' }));
  relay.start();
  await waitFor(async () => (await count(`status in ('delivered', 'dead')`)) === 4, 'every row settled');
  await relay.stop();

  const { rows } = await t.pool.query<{
    message_id: string;
    status: string;
    dead_reason: string | null;
    last_error: string | null;
    attempts: number;
  }>(`select message_id, status, dead_reason, last_error, attempts from "${t.schema}".all_messages`);
  const row = (id: string | undefined) => rows.find((r) => r.message_id === id)!;
  expect(row(good).status).toBe('delivered');
  for (const id of [noStream, oversize, denied]) {
    // Dead at the first attempt: permanent, not retried.
    expect(row(id)).toMatchObject({ status: 'dead', dead_reason: 'permanent', attempts: 1 });
  }
  expect(row(noStream).last_error).toContain('no JetStream stream is bound to subject "nowhere.x"');
  expect(row(oversize).last_error).toContain(`is over the server's max_payload of 4096 bytes`);
  expect(row(denied).last_error).toContain('permission denied publishing to "secret.x"');
  expect(JSON.stringify(rows)).not.toContain('"pw"');
});

it('a relay killed between publish and mark-delivered re-publishes as a JetStream duplicate: one copy', async () => {
  const { name, prefix } = await stream(shared.url);
  const ids = await outbox().addMany(
    t.db,
    Array.from({ length: 2_000 }, (_, i) => ({ type: 'crash', payload: { n: i } })),
  );
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nats-crash-')), 'published.txt');
  const child = spawnRelayChild({
    url: t.url,
    schema: t.schema,
    outFile,
    env: { AFTER_PUBLISH_MS: '50', CHILD_NATS_URL: shared.url, CHILD_NATS_SUBJECT_PREFIX: prefix },
  });
  const exited = new Promise((r) => child.once('exit', r));
  const published = () => childPublished(outFile);
  await waitFor(() => published().length >= 300, 'the child to publish some messages');
  child.kill('SIGKILL');
  await exited;

  const { rows: stranded } = await t.pool.query<{ message_id: string }>(
    `select message_id from "${t.schema}".messages where status = 'in_flight'`,
  );
  const inFlight = new Set(stranded.map((r) => r.message_id));
  const publishedNotMarked = new Set(published().filter((id) => inFlight.has(id)));
  expect(publishedNotMarked.size).toBeGreaterThan(0); // the kill landed between publish and mark-delivered

  // Destination `default`: the survivor serves it with a NatsPublisher, like the child did.
  const survivor = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { default: nats(shared.url, { subjectPrefix: prefix }) },
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
  });
  cleanups.push(() => survivor.stop());
  survivor.start();
  await allDelivered(ids.length);
  await survivor.stop();

  const { rows } = await t.pool.query<{ message_id: string; result: { duplicate: boolean } }>(
    `select message_id, result from "${t.schema}".all_messages`,
  );
  const duplicates = new Set(rows.filter((r) => r.result.duplicate).map((r) => r.message_id));
  // Every message the dead relay published but never marked came back as a duplicate...
  expect([...publishedNotMarked].filter((id) => !duplicates.has(id))).toEqual([]);
  // ...and the stream holds each message once.
  const messages = await readStream(shared.url, name);
  expect(messages.length).toBe(ids.length);
  expect(new Set(messages.map((m) => m.msgId))).toEqual(new Set(ids));
}, 240_000);
