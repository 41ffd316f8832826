/**
 * Webhook throughput: deliveries/s of N pre-inserted messages (default 50,000) through the
 * relay to a local keep-alive HTTP receiver, and p50/p99 of one delivery (the publish call:
 * sign + POST + response) under that load and unloaded. Beside it, the floor (#26): undici
 * alone posting the same number of Standard-Webhooks-signed bodies to the same receiver through
 * the same keep-alive pool, as many in flight as the relay's concurrency; the relay's rate as a
 * ratio of it.
 * The receiver runs in a worker thread so it does not share the relay's event loop.
 * Uses DATABASE_URL when set, else an embedded PostgreSQL.
 * Run: npx tsx bench/webhook.ts [messages] [concurrency] [batchSize] (omitted: the relay's and
 * the publisher's defaults, no tuning)
 */
import { createHmac, randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import type { OutboxMessage } from '../src/core/foundation/message.js';
import { migrate } from '../src/core/migrations/migrate.js';
import { createOutbox } from '../src/core/producer/outbox.js';
import { createRelay } from '../src/core/relay/relay.js';
import { DEFAULT_CONCURRENCY } from '../src/core/relay/relay-options.js';
import { DEFAULT_CONNECTIONS_PER_ORIGIN } from '../src/publishers/webhook/webhook-options.js';
import { WebhookPublisher } from '../src/publishers/webhook/webhook-publisher.js';
import { Agent, request } from 'undici';
import { startBenchPostgres } from './support/bench-postgres.js';
import { percentile } from './support/stats.js';
import { timedDrain } from './support/timed-drain.js';

const MESSAGES = Number(process.argv[2] ?? 50_000);
const CONCURRENCY = process.argv[3] ? Number(process.argv[3]) : undefined;
const BATCH_SIZE = process.argv[4] ? Number(process.argv[4]) : undefined;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// A minimal receiver: drains the body and answers 204 on a keep-alive connection.
const RECEIVER = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { count++; res.writeHead(204); res.end(); });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => { if (m === 'count') parentPort.postMessage({ count }); });
`;

const ms = (n: number) => `${n.toFixed(2)} ms`;
const PAYLOAD = { type: 'invoice.paid', data: { invoiceId: 'inv_123', amount: 4200, currency: 'EUR' } };

/** The message the relay would hand the publisher for row `i`. */
function benchMessage(i: number): OutboxMessage {
  const body = JSON.stringify({ ...PAYLOAD, seq: i });
  return {
    id: String(i),
    messageId: randomUUID(),
    kind: 'event',
    type: 'invoice.paid',
    destination: 'webhook',
    tenantId: null,
    orderingKey: null,
    payload: JSON.parse(body),
    body,
    headers: {},
    attempts: 1,
    maxAttempts: 1,
    createdAt: new Date(),
  };
}

/**
 * Posts `n` times, `inFlight` lanes at once, each lane taking the next index until none is left;
 * returns posts/s. `lane` is called once per lane (for state a lane keeps, such as its signal).
 */
async function postsPerSecond(
  n: number,
  inFlight: number,
  lane: () => (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const run = async () => {
    const post = lane();
    while (next < n) await post(next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, run));
  return Math.round(n / ((performance.now() - started) / 1000));
}

/** The publisher alone, no relay and no database: `inFlight` publishes at a time. Returns posts/s. */
function publisherAlone(publisher: WebhookPublisher, n: number, inFlight: number): Promise<number> {
  // A signal per lane, as the relay gives each attempt its own: one shared by 32 publishes at a
  // time would carry 32 abort listeners (Node warns past 10).
  return postsPerSecond(n, inFlight, () => {
    const context = { signal: new AbortController().signal, attempt: 1, logger: NOOP_LOGGER };
    return (i) => publisher.publish(benchMessage(i), context);
  });
}

/**
 * The floor: undici alone, `inFlight` requests at a time through one Agent of `connections`
 * keep-alive connections, each a JSON body built and signed (Standard Webhooks v1, HMAC-SHA256
 * of id.timestamp.body) as the publisher does. Returns posts/s.
 */
async function undiciFloor(url: string, n: number, inFlight: number, connections: number): Promise<number> {
  const agent = new Agent({ connections, keepAliveTimeout: 30_000 });
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const rate = await postsPerSecond(n, inFlight, () => async (i) => {
    const body = JSON.stringify({ ...PAYLOAD, seq: i });
    const id = randomUUID();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    const res = await request(url, {
      dispatcher: agent,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      },
      body,
    });
    await res.body.dump();
    if (res.statusCode !== 204) throw new Error(`floor: the receiver answered ${res.statusCode}`);
  });
  await agent.close();
  return rate;
}

async function main(): Promise<void> {
  const server = await startBenchPostgres();
  const pool = new pg.Pool({ connectionString: server.url, max: 10 });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const schema = `bench_webhook_${Date.now()}`;
  const receiver = new Worker(RECEIVER, { eval: true });
  try {
    const { port } = await new Promise<{ port: number }>((resolve) => receiver.once('message', resolve));
    await migrate(db, { schema });
    const outbox = createOutbox({ schema });
    for (let i = 0; i < MESSAGES; i += 5_000) {
      const n = Math.min(5_000, MESSAGES - i);
      await outbox.addMany(
        db,
        Array.from({ length: n }, (_, j) => ({
          type: 'invoice.paid',
          destination: 'webhook',
          payload: { ...PAYLOAD, seq: i + j },
        })),
      );
    }
    console.log(`inserted ${MESSAGES} messages`);

    const publisher = new WebhookPublisher({
      url: `http://127.0.0.1:${port}/hooks`,
      secrets: [SECRET],
      allowPrivateNetworks: true,
      ...(CONCURRENCY ? { connectionsPerOrigin: CONCURRENCY } : {}),
    });

    // Unloaded latency: one delivery at a time.
    const single: number[] = [];
    const context = { signal: new AbortController().signal, attempt: 1, logger: NOOP_LOGGER };
    for (let i = 0; i < 2_000; i++) {
      const t0 = performance.now();
      await publisher.publish(benchMessage(i), context);
      single.push(performance.now() - t0);
    }
    single.sort((a, b) => a - b);

    const relay = createRelay({
      db,
      schema,
      publishers: { webhook: publisher },
      logger: NOOP_LOGGER,
      ...(CONCURRENCY ? { concurrency: CONCURRENCY } : {}),
      ...(BATCH_SIZE ? { batchSize: BATCH_SIZE } : {}),
    });
    const inFlight = CONCURRENCY ?? DEFAULT_CONCURRENCY;
    const connections = CONCURRENCY ?? DEFAULT_CONNECTIONS_PER_ORIGIN;
    const floor = await undiciFloor(`http://127.0.0.1:${port}/hooks`, MESSAGES, inFlight, connections);
    const alone = await publisherAlone(publisher, MESSAGES, inFlight);
    const { seconds, latencies, failed } = await timedDrain(relay, MESSAGES);
    const received = await new Promise<number>((resolve) => {
      receiver.once('message', (m: { count: number }) => resolve(m.count));
      receiver.postMessage('count');
    });

    console.log(
      `relay: batchSize ${BATCH_SIZE ?? 'default'}, concurrency ${inFlight}, receiver got ${received - 2 * MESSAGES - 2_000} from the relay (and ${MESSAGES} each from the floor and the publisher alone, 2,000 unloaded), failed ${failed}`,
    );
    const rate = Math.round(MESSAGES / seconds);
    console.log(`throughput: ${rate} deliveries/s (${MESSAGES} in ${seconds.toFixed(2)} s)`);
    console.log(
      `floor: ${floor} posts/s (undici alone, ${inFlight} in flight over ${connections} connections); relay/floor ${(rate / floor).toFixed(2)}`,
    );
    console.log(
      `publisher alone: ${alone} posts/s (no relay, no database, ${inFlight} in flight); publisher/floor ${(alone / floor).toFixed(2)}`,
    );
    console.log(
      `one delivery under load: p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}`,
    );
    console.log(
      `one delivery unloaded:   p50 ${ms(percentile(single, 50))}, p99 ${ms(percentile(single, 99))}`,
    );
  } finally {
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await db.destroy();
    await receiver.terminate();
    await server.stop();
  }
}

await main();
