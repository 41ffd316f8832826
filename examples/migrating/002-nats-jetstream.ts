/**
 * Migrating a producer of seed 002's Go JetStream worker: tasks were published to
 * `provisioning.*` straight from the API. They are now written to the outbox in the API's
 * transaction and relayed to the same subjects with `Nats-Msg-Id` = message id (the worker's
 * idempotency), seed 002's backoff (10 s doubling, +-20%, max 300 s, 5 attempts) and its DLQ
 * subject. The binary does the same from env (see the guide); this is the library form.
 * Guide: docs/migrating/002-nats-jetstream.md.
 *
 * Run: DATABASE_URL=postgres://... NATS_URL=nats://127.0.0.1:4222 npx tsx examples/migrating/002-nats-jetstream.ts
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createOutbox, createRelay } from '../../src/index.js';
import { forwardDeadLetters, NatsPublisher } from '../../src/publishers/nats/index.js';

const db = new Kysely<any>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
});
const outbox = createOutbox({ schema: 'outbox' });

/** Was `js.Publish("provisioning.provision", task)` after the commit. */
export async function requestProvisioning(tenant: string, module: string): Promise<string> {
  return db.transaction().execute((trx) =>
    outbox.add(trx, {
      type: 'provision',
      destination: 'nats:provisioning.provision', // the subject, as before
      tenantId: tenant,
      orderingKey: `${tenant}:${module}`,
      maxAttempts: 5,
      payload: { tenant, module },
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const nats = new NatsPublisher({
    servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    expectStream: 'PROVISIONING',
  });
  const relay = createRelay({
    db,
    publishers: { nats },
    retry: { baseDelayMs: 10_000, factor: 2, maxDelayMs: 300_000, jitter: 0.2 },
  });
  forwardDeadLetters(relay, nats, { subject: 'provisioning.dlq' });
  relay.start();
  process.once('SIGTERM', () => void relay.stop().then(() => db.destroy()));
}
