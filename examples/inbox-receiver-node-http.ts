/**
 * A webhook receiver on plain node:http whose effect (crediting a balance) happens exactly
 * once per outbox message, however often the relay delivers it: the inbox records
 * `webhook-id` in the same transaction as the credit. Bad signature → 401, handler failure →
 * 500 (the relay retries), duplicate → 200, a key's message before its predecessor → 503.
 *
 * Run: DATABASE_URL=postgres://... WEBHOOK_SECRET=whsec_... PORT=8080 npx tsx examples/inbox-receiver-node-http.ts
 * Relay side: new WebhookPublisher({ url: 'http://127.0.0.1:8080/webhooks', secrets, headers: inboxWebhookHeaders })
 */
import http from 'node:http';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import pg from 'pg';
import { createInbox, createWebhookReceiver, migrateInbox } from '../src/inbox/index.js';

const schema = process.env.INBOX_SCHEMA ?? 'billing';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await migrateInbox(pool, { schema });
const balances = `${pg.escapeIdentifier(schema)}.balances`;
await pool.query(
  `create table if not exists ${balances} (account text primary key, balance bigint not null)`,
);

const receiver = createWebhookReceiver(pool, {
  inbox: createInbox({ schema }),
  secrets: (process.env.WEBHOOK_SECRET ?? '').split(','), // several while rotating
  order: true, // per-key order from the headers inboxWebhookHeaders adds on the relay side
  async handler(client, webhook) {
    // Continues the relay's trace (its `traceparent` header) when OpenTelemetry is set up in this
    // process; without a tracer provider these calls do nothing.
    const parent = propagation.extract(context.active(), webhook.headers);
    const span = trace.getTracer('billing').startSpan('process order', { kind: SpanKind.CONSUMER }, parent);
    try {
      const { account, amount } = webhook.payload as { account: string; amount: number };
      await client.query(
        `insert into ${balances} values ($1, $2)
         on conflict (account) do update set balance = ${balances}.balance + excluded.balance`,
        [account, amount],
      );
    } finally {
      span.end();
    }
  },
});

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/webhooks') return void receiver.listener(req, res);
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: (server.address() as { port: number }).port }));
});
process.once('SIGTERM', () => server.close(() => void pool.end()));
