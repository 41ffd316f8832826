/**
 * A relay in its own process, for crash tests: the parent kills it with SIGKILL.
 * Every publish appends the message_id to OUT_FILE synchronously *before* returning, so the
 * file is the ground truth of what reached the "receiver", whatever happens afterwards.
 * AFTER_PUBLISH_MS adds a pause after the write and before the relay may mark it delivered,
 * so a SIGKILL lands between publish and mark-delivered most of the time.
 * With CHILD_NATS_URL set, each message is first published to JetStream (subject
 * `<CHILD_NATS_SUBJECT_PREFIX>.<type>`) by a NatsPublisher, whose PubAck the relay then stores.
 * (Not NATS_URL: a CI-wide NATS_URL must not turn every crash test into a NATS one.)
 * Env: DATABASE_URL, OUTBOX_SCHEMA, OUT_FILE, LEASE_MS, PUBLISH_DELAY_MS, AFTER_PUBLISH_MS,
 * CHILD_NATS_URL, CHILD_NATS_SUBJECT_PREFIX.
 */
import fs from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { NatsPublisher } from '../../src/publishers/nats/nats-publisher.js';

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
pool.on('error', () => undefined);
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
const fd = fs.openSync(env.OUT_FILE!, 'a');
const delayMs = Number(env.PUBLISH_DELAY_MS ?? 2);
const afterMs = Number(env.AFTER_PUBLISH_MS ?? 0);
const nats = env.CHILD_NATS_URL
  ? new NatsPublisher({ servers: env.CHILD_NATS_URL, subjectPrefix: env.CHILD_NATS_SUBJECT_PREFIX })
  : undefined;

const relay = createRelay({
  db,
  schema: env.OUTBOX_SCHEMA!,
  logger: NOOP_LOGGER,
  leaseMs: Number(env.LEASE_MS ?? 1000),
  batchSize: 50,
  concurrency: 8,
  pollIntervalMs: 5,
  publishers: {
    default: {
      name: 'file',
      async publish(message, context) {
        const result = nats
          ? await nats.publish(message, context)
          : await new Promise((r) => setTimeout(r, Math.random() * delayMs));
        fs.writeSync(fd, `${message.messageId}\n`);
        if (afterMs > 0) await new Promise((r) => setTimeout(r, Math.random() * afterMs));
        return result;
      },
    },
  },
});
relay.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void relay
    .stop()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
