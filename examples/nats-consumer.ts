/**
 * A JetStream consumer of what the relay publishes, with exactly-once effects.
 *
 * JetStream drops a re-publish of the same `Nats-Msg-Id` only inside the stream's duplicate
 * window (default 2 minutes). A message can come again later: a relay whose lease expired
 * after the window, a dead letter replayed a day later, or a redelivery of a message whose
 * ack got lost (the consumer died between its commit and its ack). `createJetStreamInbox`
 * records each `Nats-Msg-Id` in the same transaction as the effect, acks only after the
 * commit, and naks with a delay when the handler throws: exactly-once effects, however late
 * the copy.
 *
 * Run: DATABASE_URL=postgres://... NATS_URL=nats://127.0.0.1:4222 npx tsx examples/nats-consumer.ts
 * (a stream ORDERS on `orders.>`; the relay publishes with destination `nats:orders.created`)
 */
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { createInbox, createJetStreamInbox, migrateInbox } from '../src/inbox/index.js';

const schema = process.env.INBOX_SCHEMA ?? 'billing';
const stream = process.env.NATS_STREAM ?? 'ORDERS';
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await migrateInbox(db, { schema });
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
await (await jetstreamManager(nc)).consumers.add(stream, {
  durable_name: 'billing',
  ack_policy: AckPolicy.Explicit,
});

const consumer = createJetStreamInbox(db, {
  inbox: createInbox({ schema }),
  nakDelayMs: 5_000, // a failed message comes back in 5 s
  order: true, // a key's messages apply in stream order, even across naks
  async handler(client, m) {
    // Continues the relay's trace (its `traceparent` header) when OpenTelemetry is set up here.
    const carrier = {
      traceparent: m.headers?.get('traceparent') ?? '',
      tracestate: m.headers?.get('tracestate') ?? '',
    };
    const parent = propagation.extract(context.active(), carrier);
    const span = trace.getTracer('billing').startSpan('process order', { kind: SpanKind.CONSUMER }, parent);
    try {
      await client.query('select 1'); // your side effect, in the same transaction as the inbox row
      console.log(JSON.stringify({ processed: m.headers?.get('Nats-Msg-Id') }));
    } finally {
      span.end();
    }
  },
});
await consumer.consume(await (await jetstream(nc).consumers.get(stream, 'billing')).consume());
