/**
 * A relay process for the crash scenario, like test/support/relay-child.ts, but with a pause
 * *after* each publish reached the file and before the relay may mark it delivered, so a
 * SIGKILL lands between publish and mark-delivered most of the time.
 * Env: DATABASE_URL, OUTBOX_SCHEMA, OUT_FILE, LEASE_MS, PUBLISH_DELAY_MS, AFTER_PUBLISH_MS.
 */
import fs from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NOOP_LOGGER } from '../../src/core/logger.js';
import { createRelay } from '../../src/core/relay.js';

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
pool.on('error', () => undefined);
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
const fd = fs.openSync(env.OUT_FILE!, 'a');
const delayMs = Number(env.PUBLISH_DELAY_MS ?? 2);
const afterMs = Number(env.AFTER_PUBLISH_MS ?? 10);

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
      async publish(message) {
        await new Promise((r) => setTimeout(r, Math.random() * delayMs));
        fs.writeSync(fd, `${message.messageId}\n`);
        await new Promise((r) => setTimeout(r, Math.random() * afterMs));
      },
    },
  },
});
relay.start();
process.on('SIGTERM', () => {
  void relay
    .stop()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
