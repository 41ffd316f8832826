/**
 * Producer cost: single-message transactions (BEGIN; write; COMMIT) on dedicated connections,
 * for outbox.add and the references every outbox is judged against: a bare INSERT into a
 * plain table (the floor) and a bare INSERT + pg_notify (what NOTIFY-on-insert costs).
 * Run: npx tsx bench/producer.ts [transactions=10000] [clients=1]
 */
import pg from 'pg';
import { migrate } from '../src/core/migrations/migrate.js';
import { createOutbox } from '../src/core/producer/outbox.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { isMain } from './support/is-main.js';
import { median } from './support/stats.js';

/** One producer's write inside its open transaction. */
export type ProducerWrite = (client: pg.Client, seq: number) => Promise<unknown>;

/**
 * Runs `transactions` transactions spread over `clients` connections, each BEGIN + write +
 * COMMIT, and returns committed transactions per second. A short warm-up runs first.
 */
export async function produce(
  url: string,
  options: { transactions: number; clients: number; write: ProducerWrite },
): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: options.clients }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  try {
    const tx = async (c: pg.Client, seq: number) => {
      await c.query('begin');
      await options.write(c, seq);
      await c.query('commit');
    };
    for (const c of clients) for (let i = 0; i < 100; i++) await tx(c, -i);
    const perClient = Math.ceil(options.transactions / options.clients);
    const started = performance.now();
    await Promise.all(
      clients.map(async (c, k) => {
        for (let i = 0; i < perClient; i++) await tx(c, k * perClient + i);
      }),
    );
    return (perClient * options.clients) / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** A plain table with one index (its primary key): the floor of any one-row write. */
export async function createPlainTable(url: string): Promise<string> {
  const table = uniqueName('bench_plain');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(
    `create table public.${table} (id bigint generated always as identity primary key, payload jsonb not null)`,
  );
  await c.end();
  return table;
}

/** The payload every producer writes, the same size for every system. */
export const producerPayload = (seq: number) => ({ orderId: seq, amount: 4200, currency: 'EUR' });

/** Writes for the outbox, the bare INSERT floor and bare INSERT + pg_notify. */
export async function referenceWrites(url: string): Promise<{
  outbox: ProducerWrite;
  bare: ProducerWrite;
  bareNotify: ProducerWrite;
  cleanup: () => Promise<void>;
}> {
  const schema = uniqueName('bench_producer');
  const table = await createPlainTable(url);
  const pool = benchPool(url, 1);
  await migrate(pool, { schema });
  const outbox = createOutbox({ schema });
  return {
    outbox: (c, seq) =>
      outbox.add(c, { type: 'order.created', destination: 'noop', payload: producerPayload(seq) }),
    bare: (c, seq) =>
      c.query(`insert into public.${table} (payload) values ($1)`, [JSON.stringify(producerPayload(seq))]),
    bareNotify: async (c, seq) => {
      await c.query(`insert into public.${table} (payload) values ($1)`, [
        JSON.stringify(producerPayload(seq)),
      ]);
      await c.query(`select pg_notify('bench_jobs', '')`);
    },
    async cleanup() {
      await pool.query(`drop schema if exists "${schema}" cascade`);
      await pool.query(`drop table if exists public.${table}`);
      await pool.end();
    },
  };
}

if (isMain(import.meta.url)) {
  const transactions = Number(process.argv[2] ?? 10_000);
  const clients = Number(process.argv[3] ?? 1);
  const server = await startBenchPostgres();
  try {
    const w = await referenceWrites(server.url);
    // Alternate the two in 4 rounds and take medians, so a warming cache, autovacuum or a
    // noisy neighbour on a small box does not favour one.
    const outboxRates: number[] = [];
    const bareRates: number[] = [];
    for (let round = 0; round < 4; round++) {
      bareRates.push(await produce(server.url, { transactions: transactions / 4, clients, write: w.bare }));
      outboxRates.push(
        await produce(server.url, { transactions: transactions / 4, clients, write: w.outbox }),
      );
    }
    await w.cleanup();
    const outboxRate = median(outboxRates);
    const bareRate = median(bareRates);
    console.log(`producer, ${transactions} single-message transactions, ${clients} client(s):`);
    console.log(`  outbox.add:   ${Math.round(outboxRate)} tx/s`);
    console.log(`  bare INSERT:  ${Math.round(bareRate)} tx/s`);
    console.log(`  ratio:        ${(outboxRate / bareRate).toFixed(2)}x of the bare-INSERT floor`);
  } finally {
    await server.stop();
  }
}
