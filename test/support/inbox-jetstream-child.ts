// A JetStream inbox consumer in its own process that loses its first ack for real: the message's
// effect commits, then, where the helper acks, this process prints `{"committed": id}` and waits
// to be SIGKILLed without ever acking. JetStream redelivers after ack_wait.
// Env: DATABASE_URL, INBOX_SCHEMA, CHILD_NATS_URL, STREAM, CONSUMER.
import type { JsMsg } from '@nats-io/jetstream';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { createInbox, createJetStreamInbox } from '../../src/inbox/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`inbox-jetstream-child needs ${name}`);
  return value;
};
const schema = env('INBOX_SCHEMA');
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 2 });
const nc = await connect({ servers: env('CHILD_NATS_URL') });
const consumer = await jetstream(nc).consumers.get(env('STREAM'), env('CONSUMER'));
const js = createJetStreamInbox(pool, {
  inbox: createInbox({ schema }),
  async handler(client) {
    await client.query(`update "${schema}".balances set balance = balance + 1 where account = 'a'`);
  },
});

function withLostAck(m: JsMsg): JsMsg {
  return new Proxy(m, {
    get(target, property) {
      if (property === 'ack') {
        return () => console.log(JSON.stringify({ committed: target.headers?.get('Nats-Msg-Id') }));
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

for await (const m of await consumer.consume({ max_messages: 1 })) {
  await js.handle(withLostAck(m));
  // Take no other message and never ack: the parent kills this process now.
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}
