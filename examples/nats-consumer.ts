/**
 * A JetStream consumer of what the relay publishes, deduplicating on `Nats-Msg-Id`.
 *
 * JetStream drops a re-publish of the same `Nats-Msg-Id` only inside the stream's duplicate
 * window (default 2 minutes). A message can come again later: a relay whose lease expired
 * after the window, a dead letter replayed a day later, or a redelivery of a message whose
 * ack got lost. So the consumer records each message id in the same transaction as its
 * effect, and skips ids it has seen: exactly-once effects, however late the copy.
 *
 * Run: DATABASE_URL=postgres://... NATS_URL=nats://127.0.0.1:4222 npx tsx examples/nats-consumer.ts
 * (a stream ORDERS on `orders.>`; the relay publishes with destination `nats:orders.created`)
 */
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await db.query('create table if not exists processed_messages (message_id text primary key)');
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
await (await jetstreamManager(nc)).consumers.add('ORDERS', {
  durable_name: 'billing',
  ack_policy: AckPolicy.Explicit,
});

async function handle(order: unknown, tx: pg.PoolClient): Promise<void> {
  await tx.query('select 1'); // your side effect, in the same transaction as the dedup record
  console.log('processed', order);
}

// The 10 lines: record the id and apply the effect in one transaction; a seen id only gets acked.
for await (const m of await (await jetstream(nc).consumers.get('ORDERS', 'billing')).consume()) {
  const tx = await db.connect();
  try {
    await tx.query('begin');
    const first = await tx.query('insert into processed_messages values ($1) on conflict do nothing', [
      m.headers?.get('Nats-Msg-Id'),
    ]);
    if (first.rowCount === 1) await handle(m.json(), tx);
    await tx.query('commit');
    m.ack();
  } catch (error) {
    await tx.query('rollback');
    m.nak(5_000); // redelivered in 5 s
    console.error('failed, will retry', error);
  } finally {
    tx.release();
  }
}
