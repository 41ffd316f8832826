/**
 * Inbox cost on the receiving side: webhooks/s a node:http receiver applies with the inbox
 * (verify, record webhook-id, handler, one transaction) and without it (verify, the same
 * handler in its own transaction), same receiver process, same database, one run each.
 * The sender runs in a worker thread with keep-alive connections and pre-signed requests, so
 * it does not share the receiver's event loop. Each message is new: this is the inbox's
 * insert cost, not the (cheaper) duplicate path.
 * Uses DATABASE_URL when set, else an embedded PostgreSQL.
 * Run: npx tsx bench/inbox.ts [messages=20000] [concurrency=32]
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { createInbox, createWebhookReceiver, migrateInbox } from '../src/inbox/index.js';
import { verifyWebhook } from '../src/publishers/webhook/verify-webhook.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { startBenchPostgres } from './support/bench-postgres.js';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const WARMUP = 1_000;
const ACCOUNTS = 1_000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// Signs every request up front (Standard Webhooks v1), then sends them `concurrency` at a time
// over keep-alive connections; reports the wall time of the sending and the statuses.
const SENDER = `
const http = require('node:http');
const crypto = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
const { url, ids, concurrency, secret } = workerData;
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const ts = String(Math.floor(Date.now() / 1000));
const requests = ids.map((id, i) => {
  const body = JSON.stringify({ account: 'a' + (i % ${ACCOUNTS}), amount: 1 });
  const sig = crypto.createHmac('sha256', key).update(id + '.' + ts + '.' + body).digest('base64');
  return { body, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
    'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': 'v1,' + sig } };
});
const statuses = {};
let next = 0;
function send(r) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: r.headers }, (res) => {
      res.resume();
      res.on('end', () => { statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1; resolve(); });
    });
    req.on('error', reject);
    req.end(r.body);
  });
}
async function lane() { while (next < requests.length) await send(requests[next++]); }
const started = performance.now();
Promise.all(Array.from({ length: concurrency }, lane)).then(() => {
  parentPort.postMessage({ ms: performance.now() - started, statuses });
  agent.destroy();
});
`;

async function send(url: string, count: number): Promise<{ ms: number; statuses: Record<string, number> }> {
  const ids = Array.from({ length: count }, () => randomUUID());
  const worker = new Worker(SENDER, {
    eval: true,
    workerData: { url, ids, concurrency: CONCURRENCY, secret: SECRET },
  });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

async function main(): Promise<void> {
  const server = await startBenchPostgres();
  const pool = benchPool(server.url, CONCURRENCY);
  const schema = uniqueName('bench_inbox');
  const balances = `"${schema}".balances`;
  const credit = async (client: pg.PoolClient, payload: unknown) => {
    const { account, amount } = payload as { account: string; amount: number };
    await client.query(`update ${balances} set balance = balance + $2 where account = $1`, [account, amount]);
  };
  const receiver = createWebhookReceiver(pool, {
    inbox: createInbox({ schema }),
    secrets: [SECRET],
    handler: (client, webhook) => credit(client, webhook.payload),
  });
  // Without the inbox: the same verification and handler, in a transaction of its own.
  const plain = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    try {
      verifyWebhook({ headers: req.headers, body, secrets: [SECRET] });
    } catch (error) {
      res.writeHead(401).end(String(error));
      return;
    }
    const client = await pool.connect();
    try {
      await client.query('begin');
      await credit(client, JSON.parse(body.toString('utf8')));
      await client.query('commit');
      res.writeHead(200).end();
    } catch (error) {
      await client.query('rollback');
      res.writeHead(500).end(String(error));
    } finally {
      client.release();
    }
  };
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/inbox') return void receiver.listener(req, res);
    void plain(req, res);
  });
  httpServer.keepAliveTimeout = 30_000;
  try {
    await migrateInbox(pool, { schema });
    await pool.query(
      `create table ${balances} (account text primary key, balance bigint not null default 0)`,
    );
    await pool.query(
      `insert into ${balances} select 'a' || i, 0 from generate_series(0, ${ACCOUNTS - 1}) as i`,
    );
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    console.log(
      `inbox bench: ${MESSAGES} webhooks, ${CONCURRENCY} concurrent, PostgreSQL from ${server.source}, Node ${process.version}`,
    );
    await send(`${base}/plain`, WARMUP);
    await send(`${base}/inbox`, WARMUP);
    await pool.query(`truncate "${schema}".inbox_messages`);
    await pool.query(`vacuum analyze ${balances}`);

    const without = await send(`${base}/plain`, MESSAGES);
    const withInbox = await send(`${base}/inbox`, MESSAGES);
    const rate = (r: { ms: number }) => MESSAGES / (r.ms / 1000);
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from "${schema}".inbox_messages`,
    );
    console.log(
      `without inbox: ${rate(without).toFixed(0)} webhooks/s  statuses ${JSON.stringify(without.statuses)}`,
    );
    console.log(
      `with inbox:    ${rate(withInbox).toFixed(0)} webhooks/s  statuses ${JSON.stringify(withInbox.statuses)}  (${rows[0]!.n} ids recorded)`,
    );
    console.log(`ratio with/without: ${(rate(withInbox) / rate(without)).toFixed(2)}`);
  } finally {
    httpServer.closeAllConnections();
    httpServer.close();
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
    await server.stop();
  }
}

await main();
