/**
 * Drain: pre-insert N messages (optionally with R delivered rows retained in the archive), drain
 * them with a no-op publisher, print messages/s. The clock stops when the last message is
 * marked delivered in the table, not when its publish returned.
 * Run: npx tsx bench/drain.ts [messages=100000] [retained=0] [batchSize] [concurrency]
 */
import type pg from 'pg';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import { migrate } from '../src/core/migrations/migrate.js';
import { createOutbox } from '../src/core/producer/outbox.js';
import { createRelay } from '../src/core/relay/relay.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { isMain } from './support/is-main.js';
import { noopPublisher } from './support/noop-publisher.js';

/** Options of one outbox-relay drain. */
export interface DrainOptions {
  url: string;
  messages: number;
  /** Delivered rows inserted before the backlog, as a long retention would leave them. */
  retained?: number;
  batchSize?: number;
  concurrency?: number;
}

/** Fills `schema` with `retained` delivered rows and `messages` pending ones. */
export async function fillOutbox(
  pool: pg.Pool,
  schema: string,
  messages: number,
  retained = 0,
): Promise<void> {
  await migrate(pool, { schema });
  if (retained > 0) {
    // Delivered rows live in the archive, with ids from the outbox's own sequence as the
    // write-back leaves them; generate_series keeps a 1M-row fill to seconds.
    await pool.query(
      `insert into "${schema}".messages_archive (id, message_id, kind, type, destination, payload, headers,
                                                 attempts, max_attempts, created_at, available_at, delivered_at)
       select nextval(pg_get_serial_sequence('"${schema}".messages', 'id')), gen_random_uuid(), 'event',
              'bench.retained', 'noop', jsonb_build_object('seq', g), '{}', 1, 25, now(), now(), now()
         from generate_series(1, $1::int) g`,
      [retained],
    );
    await pool.query(`vacuum analyze "${schema}".messages_archive`);
  }
  const outbox = createOutbox({ schema });
  for (let i = 0; i < messages; i += 5_000) {
    const n = Math.min(5_000, messages - i);
    await outbox.addMany(
      pool,
      Array.from({ length: n }, (_, j) => ({
        type: 'order.created',
        destination: 'noop',
        payload: { orderId: i + j, amount: 4200, currency: 'EUR' },
      })),
    );
  }
  // Every system gets fresh statistics before its clock starts.
  await pool.query(`vacuum analyze "${schema}".messages`);
  await pool.query('checkpoint').catch(() => undefined); // needs superuser; best effort
}

/** Drains a pre-filled outbox with the relay and returns messages/s. */
export async function drainOutbox(options: DrainOptions): Promise<{ perSecond: number; seconds: number }> {
  const pool = benchPool(options.url, 4);
  const schema = uniqueName('bench_drain');
  try {
    await fillOutbox(pool, schema, options.messages, options.retained);
    const relay = createRelay({
      db: pool,
      schema,
      publishers: { noop: noopPublisher() },
      logger: NOOP_LOGGER,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    });
    let delivered = 0;
    const done = new Promise<void>((resolve) => {
      // 'delivered' fires after the write-back statement: the row is marked in the table.
      relay.on('delivered', () => {
        if (++delivered === options.messages) resolve();
      });
    });
    const started = performance.now();
    relay.start();
    await done;
    const seconds = (performance.now() - started) / 1000;
    await relay.stop();
    return { perSecond: options.messages / seconds, seconds };
  } finally {
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

if (isMain(import.meta.url)) {
  const messages = Number(process.argv[2] ?? 100_000);
  const retained = Number(process.argv[3] ?? 0);
  const batchSize = process.argv[4] ? Number(process.argv[4]) : undefined;
  const concurrency = process.argv[5] ? Number(process.argv[5]) : undefined;
  const server = await startBenchPostgres();
  try {
    const r = await drainOutbox({ url: server.url, messages, retained, batchSize, concurrency });
    console.log(
      `drain: ${messages} messages (${retained} delivered retained) in ${r.seconds.toFixed(2)} s = ` +
        `${Math.round(r.perSecond)} messages/s (Node ${process.version})`,
    );
  } finally {
    await server.stop();
  }
}
