/**
 * Webhook throughput: deliveries/s of N pre-inserted messages (default 50,000) through the
 * relay to a local keep-alive HTTP receiver, and p50/p99 of one delivery (the publish call:
 * sign + POST + response) under that load and unloaded.
 * The receiver runs in a worker thread so it does not share the relay's event loop.
 * Uses DATABASE_URL when set, else an embedded PostgreSQL.
 * Run: npx tsx bench/webhook.ts [messages] [concurrency=32] [batchSize=200] (the relay defaults)
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import { migrate } from '../src/core/migrations/migrate.js';
import { createOutbox } from '../src/core/producer/outbox.js';
import { createRelay } from '../src/core/relay/relay.js';
import { WebhookPublisher } from '../src/publishers/webhook/webhook-publisher.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { percentile } from './support/stats.js';
import { timedDrain } from './support/timed-drain.js';

const MESSAGES = Number(process.argv[2] ?? 50_000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const BATCH_SIZE = Number(process.argv[4] ?? 200);
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
    const payload = { type: 'invoice.paid', data: { invoiceId: 'inv_123', amount: 4200, currency: 'EUR' } };
    for (let i = 0; i < MESSAGES; i += 5_000) {
      const n = Math.min(5_000, MESSAGES - i);
      await outbox.addMany(
        db,
        Array.from({ length: n }, (_, j) => ({
          type: 'invoice.paid',
          destination: 'webhook',
          payload: { ...payload, seq: i + j },
        })),
      );
    }
    console.log(`inserted ${MESSAGES} messages`);

    const publisher = new WebhookPublisher({
      url: `http://127.0.0.1:${port}/hooks`,
      secrets: [SECRET],
      allowPrivateNetworks: true,
      connectionsPerOrigin: CONCURRENCY,
    });

    // Unloaded latency: one delivery at a time.
    const single: number[] = [];
    const context = { signal: new AbortController().signal, attempt: 1, logger: NOOP_LOGGER };
    for (let i = 0; i < 2_000; i++) {
      const body = JSON.stringify({ ...payload, seq: i });
      const t0 = performance.now();
      await publisher.publish(
        {
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
        },
        context,
      );
      single.push(performance.now() - t0);
    }
    single.sort((a, b) => a - b);

    const relay = createRelay({
      db,
      schema,
      publishers: { webhook: publisher },
      logger: NOOP_LOGGER,
      concurrency: CONCURRENCY,
      batchSize: BATCH_SIZE,
      pollIntervalMs: 5,
    });
    const { seconds, latencies, failed } = await timedDrain(relay, MESSAGES);
    const received = await new Promise<number>((resolve) => {
      receiver.once('message', (m: { count: number }) => resolve(m.count));
      receiver.postMessage('count');
    });

    console.log(
      `relay: batchSize ${BATCH_SIZE}, concurrency ${CONCURRENCY}, receiver got ${received}, failed ${failed}`,
    );
    console.log(
      `throughput: ${Math.round(MESSAGES / seconds)} deliveries/s (${MESSAGES} in ${seconds.toFixed(2)} s)`,
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
