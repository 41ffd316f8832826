/**
 * A small HTTP service: POST /orders writes the order and its `order.created` event in one
 * kysely transaction. If the insert fails, neither exists; if it commits, the relay
 * (`outbox-relay start`) delivers the event. Run: DATABASE_URL=... npx tsx examples/http-order-service.ts
 */
import http from 'node:http';
import { type Generated, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createOutbox, migrate, OutboxValidationError } from '../src/index.js';

interface Database {
  orders: { id: Generated<string>; customer: string; amount_cents: number };
}

type Events = { 'order.created': { orderId: string; customer: string; amountCents: number } };

const db = new Kysely<Database>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
});
const outbox = createOutbox<Events>({ schema: 'outbox' });

await migrate(db, { schema: 'outbox' });
await db.schema
  .createTable('orders')
  .ifNotExists()
  .addColumn('id', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
  .addColumn('customer', 'text', (c) => c.notNull())
  .addColumn('amount_cents', 'integer', (c) => c.notNull())
  .execute();

async function readJson(req: http.IncomingMessage): Promise<{ customer?: unknown; amountCents?: unknown }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/orders') return res.writeHead(404).end();
  try {
    const body = await readJson(req);
    if (typeof body.customer !== 'string' || !Number.isInteger(body.amountCents)) {
      return res.writeHead(400).end('customer (string) and amountCents (integer) are required');
    }
    const customer = body.customer;
    const amountCents = body.amountCents as number;
    const order = await db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('orders')
        .values({ customer, amount_cents: amountCents })
        .returning('id')
        .executeTakeFirstOrThrow();
      // Same transaction: the event exists exactly when the order does.
      await outbox.add(trx, {
        type: 'order.created',
        payload: { orderId: String(row.id), customer, amountCents },
        tenantId: customer,
        orderingKey: `order-${row.id}`,
      });
      return row;
    });
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: String(order.id) }));
  } catch (error) {
    if (error instanceof OutboxValidationError) return res.writeHead(400).end(error.message);
    console.error(error);
    res.writeHead(500).end();
  }
});

server.listen(Number(process.env.PORT ?? 3000), () => console.log('POST http://localhost:3000/orders'));
process.on('SIGTERM', () => server.close(() => void db.destroy()));
