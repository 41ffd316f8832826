/**
 * The inbox webhook receiver on Express 5: `express.raw` keeps the body as the bytes that were
 * signed (a JSON body parser would re-serialize them and break the signature check), then
 * `receiver.handle` verifies, deduplicates and applies, and tells the status to answer.
 * (`app.post('/webhooks', receiver.listener)` works too when no body parser runs before it.)
 *
 * Run: DATABASE_URL=postgres://... WEBHOOK_SECRET=whsec_... PORT=8080 npx tsx examples/inbox-receiver-express.ts
 */
import express from 'express';
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
  secrets: (process.env.WEBHOOK_SECRET ?? '').split(','),
  order: true,
  async handler(client, webhook) {
    const { account, amount } = webhook.payload as { account: string; amount: number };
    await client.query(
      `insert into ${balances} values ($1, $2)
       on conflict (account) do update set balance = ${balances}.balance + excluded.balance`,
      [account, amount],
    );
  },
});

const app = express();
app.post('/webhooks', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const reply = await receiver.handle({ headers: req.headers, body });
  res.status(reply.status).set(reply.headers).send(reply.body);
});
const server = app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: (server.address() as { port: number }).port }));
});
process.once('SIGTERM', () => server.close(() => void pool.end()));
