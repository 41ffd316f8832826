/**
 * The inbox webhook receiver on Fastify 5: a content-type parser that keeps every body as the
 * raw Buffer that was signed, then `receiver.handle` verifies, deduplicates and applies.
 *
 * Run: DATABASE_URL=postgres://... WEBHOOK_SECRET=whsec_... PORT=8080 npx tsx examples/inbox-receiver-fastify.ts
 */
import Fastify from 'fastify';
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

const app = Fastify({ bodyLimit: 1024 * 1024 });
// The bytes as signed: Fastify's JSON parser would hand over an object, not the raw body.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post('/webhooks', async (request, reply) => {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const answer = await receiver.handle({ headers: request.headers, body });
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
});
const address = await app.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' });
console.log(JSON.stringify({ listening: Number(new URL(address).port) }));
process.once('SIGTERM', () => void app.close().then(() => pool.end()));
