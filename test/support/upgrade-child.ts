/**
 * A relay or a producer of any build of outbox-relay, in its own process, for upgrade tests.
 * BUILD_DIR is the root of the build whose `src/index.ts` it runs (an older commit prepared by
 * older-build.ts, or this tree), so the same script plays old and new releases.
 *
 * ROLE=relay: publishes by appending `<message_id> <epoch ms>` to OUT_FILE (the receiver's ground truth)
 *   after PUBLISH_DELAY_MS at most. SIGTERM: stop() and exit 0. A relay that stops itself on the
 *   schema fence (`fault` event, builds that have it) exits 3.
 * ROLE=producer: writes transactions of TX_SIZE messages with caller-chosen ids, one key set of
 *   its own (PRODUCER), some rolled back, and appends `<message_id> <key> <seq>` to OUT_FILE
 *   after each commit. SIGTERM: finishes the transaction in progress and exits 0.
 * Env: BUILD_DIR, ROLE, DATABASE_URL, OUTBOX_SCHEMA, OUT_FILE, LEASE_MS, PUBLISH_DELAY_MS,
 * PRODUCER, TX_SIZE, PAUSE_MS.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const env = process.env;
const build = await import(pathToFileURL(path.join(env.BUILD_DIR!, 'src/index.ts')).href);
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
pool.on('error', () => undefined);
const fd = fs.openSync(env.OUT_FILE!, 'a');
const schema = env.OUTBOX_SCHEMA!;
let stopping = false;

if (env.ROLE === 'relay') {
  const delayMs = Number(env.PUBLISH_DELAY_MS ?? 2);
  const relay = build.createRelay({
    db: pool,
    schema,
    logger: build.NOOP_LOGGER,
    leaseMs: Number(env.LEASE_MS ?? 2000),
    batchSize: 50,
    concurrency: 8,
    pollIntervalMs: 5,
    publishers: {
      default: {
        name: 'file',
        async publish(message: { messageId: string }) {
          await new Promise((r) => setTimeout(r, Math.random() * delayMs));
          fs.writeSync(fd, `${message.messageId} ${performance.timeOrigin + performance.now()}\n`);
        },
      },
    },
  });
  relay.on('fault', () => void pool.end().then(() => process.exit(3)));
  relay.start();
  process.on('SIGTERM', () => {
    void relay
      .stop()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
} else {
  const outbox = build.createOutbox({ schema });
  const producer = env.PRODUCER ?? '0';
  const txSize = Number(env.TX_SIZE ?? 5);
  const pauseMs = Number(env.PAUSE_MS ?? 0);
  const seqs = new Map<string, number>();
  process.on('SIGTERM', () => {
    stopping = true;
  });
  for (let n = 0; !stopping; n++) {
    const rollback = n % 10 === 9;
    const batch = Array.from({ length: txSize }, (_, i) => {
      const key = (n + i) % 5 === 0 ? null : `p${producer}-k${(n * 7 + i) % 6}`;
      return { messageId: randomUUID(), key };
    });
    const client = await pool.connect();
    try {
      await client.query('begin');
      await outbox.addMany(
        client,
        batch.map((m) => ({ type: 'upgrade', messageId: m.messageId, orderingKey: m.key, payload: { n } })),
      );
      if (rollback) {
        await client.query('rollback');
      } else {
        await client.query('commit');
        // Keys are this producer's own: commit order is write order.
        const lines = batch.map((m) => {
          const k = m.key ?? '';
          const seq = (seqs.get(k) ?? 0) + 1;
          seqs.set(k, seq);
          return `${m.messageId} ${m.key ?? '-'} ${seq}\n`;
        });
        fs.writeSync(fd, lines.join(''));
      }
    } finally {
      client.release();
    }
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  await pool.end();
  process.exit(0);
}
process.stdout.write('ready\n');
