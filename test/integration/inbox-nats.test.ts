import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AckPolicy, type ConsumerMessages, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { natsTestServer } from '../../bench/support/nats-server.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import type { JsonValue } from '../../src/core/foundation/json-value.js';
import { createRelay } from '../../src/core/relay/relay.js';
import {
  createInbox,
  createJetStreamInbox,
  type JetStreamInboxOutcome,
  migrateInbox,
} from '../../src/inbox/index.js';
import { NatsPublisher } from '../../src/publishers/nats/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

let t: TestDatabase;
let nats: Awaited<ReturnType<typeof natsTestServer>>;
let nc: NatsConnection;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 10 });
  await migrateInbox(t.db, { schema: t.schema });
  await t.pool.query(`create table "${t.schema}".balances (account text primary key, balance int not null)`);
  await t.pool.query(
    `create table "${t.schema}".applied (n serial primary key, key text, value int not null, message_id text not null)`,
  );
  nats = await natsTestServer();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.close();
  await nats?.close();
  await t?.close();
});
beforeEach(async () => {
  await t.pool.query(
    `truncate "${t.schema}".messages, "${t.schema}".messages_archive, "${t.schema}".inbox_messages, "${t.schema}".inbox_keys, "${t.schema}".applied, "${t.schema}".balances`,
  );
  await t.pool.query(`insert into "${t.schema}".balances values ('a', 0)`);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stream and a durable explicit-ack consumer of this test's own; the relay publishes to `<prefix>.*`. */
async function streamAndConsumer(
  ackWaitMs: number,
): Promise<{ stream: string; prefix: string; durable: string }> {
  const id = randomBytes(4).toString('hex');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: `IN_${id}`, subjects: [`in${id}.>`] });
  await jsm.consumers.add(`IN_${id}`, {
    durable_name: 'billing',
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
  });
  cleanups.push(async () => {
    await jsm.streams.delete(`IN_${id}`).catch(() => undefined);
  });
  return { stream: `IN_${id}`, prefix: `in${id}`, durable: 'billing' };
}

async function relayTo(
  prefix: string,
  messages: { orderingKey?: string; payload: JsonValue }[],
): Promise<void> {
  const publisher = new NatsPublisher({ servers: nats.url, subjectPrefix: prefix });
  await createOutbox({ schema: t.schema }).addMany(
    t.db,
    messages.map((m) => ({ type: 'credit', destination: 'nats', ...m })),
  );
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { nats: publisher },
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
  });
  relay.start();
  cleanups.push(async () => {
    await relay.stop();
    await publisher.close();
  });
}

/** Runs `handle` over the consumer's messages in the background, recording outcomes. */
async function consumeWith(
  stream: string,
  durable: string,
  handle: (m: import('@nats-io/jetstream').JsMsg) => Promise<JetStreamInboxOutcome>,
): Promise<JetStreamInboxOutcome[]> {
  const outcomes: JetStreamInboxOutcome[] = [];
  const messages: ConsumerMessages = await (await jetstream(nc).consumers.get(stream, durable)).consume();
  const done = (async () => {
    for await (const m of messages) outcomes.push(await handle(m));
  })();
  cleanups.push(async () => {
    await messages.close();
    await done;
  });
  return outcomes;
}

async function count(table: string): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(`select count(*)::int as n from "${t.schema}".${table}`);
  return rows[0]!.n;
}

async function ackPending(stream: string, durable: string): Promise<number> {
  const info = await (await jetstreamManager(nc)).consumers.info(stream, durable);
  return info.num_ack_pending + info.num_pending;
}

describe('JetStream inbox', () => {
  it('applies each relayed message once, acking after commit and nak-ing a failure for redelivery', async () => {
    const { stream, prefix, durable } = await streamAndConsumer(30_000);
    const failedOnce = new Set<number>();
    const js = createJetStreamInbox(t.pool, {
      inbox: createInbox({ schema: t.schema }),
      nakDelayMs: 50,
      async handler(client, m) {
        const { value } = m.json<{ value: number }>();
        if (value % 5 === 0 && !failedOnce.has(value)) {
          failedOnce.add(value);
          throw new Error('downstream unavailable');
        }
        await client.query(`insert into "${t.schema}".applied (value, message_id) values ($1, $2)`, [
          value,
          m.headers?.get('Nats-Msg-Id'),
        ]);
      },
    });
    const outcomes = await consumeWith(stream, durable, (m) => js.handle(m));
    await relayTo(
      prefix,
      Array.from({ length: 50 }, (_, i) => ({ payload: { value: i } })),
    );
    await waitFor(async () => (await count('applied')) === 50, '50 effects', 40_000);
    await waitFor(async () => (await ackPending(stream, durable)) === 0, 'every message acked', 20_000);
    const { rows } = await t.pool.query<{ value: number }>(
      `select value from "${t.schema}".applied order by value`,
    );
    expect(rows.map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(outcomes.filter((o) => o === 'failed')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'processed')).toHaveLength(50);
  });

  it('keeps the effect once when the consumer is SIGKILLed between commit and ack: the redelivery is a duplicate', async () => {
    const { stream, prefix, durable } = await streamAndConsumer(1_000);
    await relayTo(prefix, [{ payload: { value: 1 } }]);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/support/inbox-jetstream-child.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: t.url,
          INBOX_SCHEMA: t.schema,
          CHILD_NATS_URL: nats.url,
          STREAM: stream,
          CONSUMER: durable,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    const committed = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child committed nothing in 30 s')), 30_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { committed: string }).committed);
      });
    });
    // Committed, not acked: the effect is there and JetStream still waits for the ack.
    const balance = async () =>
      (await t.pool.query<{ balance: number }>(`select balance from "${t.schema}".balances`)).rows[0]!
        .balance;
    expect(await balance()).toBe(1);
    child.kill('SIGKILL');
    await exited;
    expect((await (await jetstreamManager(nc)).consumers.info(stream, durable)).num_ack_pending).toBe(1);

    const inbox = createInbox({ schema: t.schema });
    const js = createJetStreamInbox(t.pool, {
      inbox,
      async handler(client) {
        await client.query(`update "${t.schema}".balances set balance = balance + 1 where account = 'a'`);
      },
    });
    const redelivered: { id: string | undefined; count: number }[] = [];
    const outcomes = await consumeWith(stream, durable, (m) => {
      redelivered.push({ id: m.headers?.get('Nats-Msg-Id'), count: m.info.deliveryCount });
      return js.handle(m);
    });
    await waitFor(() => outcomes.length === 1, 'the redelivery', 20_000);
    await waitFor(async () => (await ackPending(stream, durable)) === 0, 'the redelivery acked', 20_000);
    expect(outcomes).toEqual(['duplicate']);
    expect(redelivered).toEqual([{ id: committed, count: 2 }]);
    expect(await balance()).toBe(1);
    expect(inbox.counters()).toMatchObject({ duplicates: 1, processed: 0 });
  });

  it("with order on, holds a key's later messages back until a failed earlier one is applied", async () => {
    const { stream, prefix, durable } = await streamAndConsumer(30_000);
    const failedOnce = new Set<string>();
    const js = createJetStreamInbox(t.pool, {
      inbox: createInbox({ schema: t.schema }),
      nakDelayMs: 100,
      order: true,
      async handler(client, m) {
        const { key, value } = m.json<{ key: string; value: number }>();
        // The first message of every key fails once: its successors must wait for it.
        if (value < 3 && !failedOnce.has(key)) {
          failedOnce.add(key);
          throw new Error('downstream unavailable');
        }
        await client.query(`insert into "${t.schema}".applied (key, value, message_id) values ($1, $2, $3)`, [
          key,
          value,
          m.headers?.get('Nats-Msg-Id'),
        ]);
      },
    });
    const outcomes = await consumeWith(stream, durable, (m) => js.handle(m));
    await relayTo(
      prefix,
      Array.from({ length: 30 }, (_, i) => ({
        orderingKey: `k${i % 3}`,
        payload: { key: `k${i % 3}`, value: i },
      })),
    );
    await waitFor(async () => (await count('applied')) === 30, '30 effects', 40_000);
    const { rows } = await t.pool.query<{ key: string; value: number }>(
      `select key, value from "${t.schema}".applied order by n`,
    );
    for (const key of ['k0', 'k1', 'k2']) {
      const values = rows.filter((r) => r.key === key).map((r) => r.value);
      expect(values, key).toEqual([...values].sort((a, b) => a - b));
      expect(values, key).toHaveLength(10);
    }
    expect(outcomes.filter((o) => o === 'failed')).toHaveLength(3);
    expect(outcomes).toContain('held');
    expect(outcomes).not.toContain('stale');
  });
  it('examples/nats-consumer.ts records every relayed message in its inbox and acks it', async () => {
    const id = randomBytes(4).toString('hex');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `EX_${id}`, subjects: [`ex${id}.>`] });
    cleanups.push(async () => {
      await jsm.streams.delete(`EX_${id}`).catch(() => undefined);
    });
    const schema = `${t.schema}_example`;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'examples/nats-consumer.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: t.url,
        NATS_URL: nats.url,
        INBOX_SCHEMA: schema,
        NATS_STREAM: `EX_${id}`,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const processed = new Set<string>();
    createInterface({ input: child.stdout! }).on('line', (line) => {
      processed.add((JSON.parse(line) as { processed: string }).processed);
    });
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
      await t.pool.query(`drop schema if exists "${schema}" cascade`);
    });
    await relayTo(
      `ex${id}`,
      Array.from({ length: 10 }, (_, i) => ({ orderingKey: `k${i % 2}`, payload: { value: i } })),
    );
    await waitFor(() => processed.size === 10, 'the example to process 10 messages', 40_000);
    await waitFor(async () => (await ackPending(`EX_${id}`, 'billing')) === 0, 'every message acked', 20_000);
    const { rows } = await t.pool.query<{ message_id: string }>(
      `select message_id from "${schema}".inbox_messages`,
    );
    expect(new Set(rows.map((r) => r.message_id))).toEqual(processed);
  });
  it('terminates a message whose id the inbox cannot store, instead of redelivering it forever', async () => {
    const { stream, prefix, durable } = await streamAndConsumer(30_000);
    const h = headers();
    h.set('Nats-Msg-Id', 'x'.repeat(600));
    await jetstream(nc).publish(`${prefix}.credit`, '{"value":1}', { headers: h });
    const js = createJetStreamInbox(t.pool, {
      inbox: createInbox({ schema: t.schema }),
      handler: () => undefined,
    });
    const outcomes = await consumeWith(stream, durable, (m) => js.handle(m));
    await waitFor(() => outcomes.length === 1, 'the message handled', 20_000);
    await waitFor(async () => (await ackPending(stream, durable)) === 0, 'the message terminated', 20_000);
    expect(outcomes).toEqual(['rejected']);
    expect(await count('inbox_messages')).toBe(0);
  });
});
