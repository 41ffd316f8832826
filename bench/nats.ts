/**
 * NATS JetStream: the relay draining N pre-inserted messages (default 20,000) to a stream
 * (msg/s, p50/p99 of one publish = PubAck wait, under the relay's load), next to
 *   - per-message: `NatsPublisher.publish()` with the relay's concurrency, no database;
 *   - floor: the same client publishing the same messages (body and headers) straight to
 *     the stream, async publishes with a window of acks in flight, no database, at two
 *     windows (the relay's concurrency and `window`). Each runs before and after the relay;
 *     a window's figure is the mean of its two runs, the floor is the better window.
 * The issue's goal is relay >= 50% of the floor. nats-server is started here (file storage
 * under the OS temp dir) unless NATS_URL is set; Postgres is DATABASE_URL or embedded.
 * Run: npx tsx bench/nats.ts [messages] [concurrency=relay default] [window=256]
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kysely, PostgresDialect } from 'kysely';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import type { OutboxMessage } from '../src/core/foundation/message.js';
import { migrate } from '../src/core/migrations/migrate.js';
import { createOutbox } from '../src/core/producer/outbox.js';
import { createRelay, DEFAULT_BATCH_SIZE } from '../src/core/relay/relay.js';
import { NatsPublisher } from '../src/publishers/nats/nats-publisher.js';
import { DEFAULT_NATS_HEADER_PREFIX, natsHeaders } from '../src/publishers/nats/index.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { isMain } from './support/is-main.js';
import { startNatsServer } from './support/nats-server.js';
import { percentile } from './support/stats.js';
import { timedDrain } from './support/timed-drain.js';

/** What one run of the NATS scenario measured. */
export interface NatsBenchResult {
  readonly messages: number;
  readonly concurrency: number;
  /** The window of the better floor. */
  readonly window: number;
  /** Relay drain, database included. */
  readonly relayPerSec: number;
  readonly relayP50Ms: number;
  readonly relayP99Ms: number;
  /** `NatsPublisher.publish()` at the relay's concurrency, no database. */
  readonly perMessagePerSec: number;
  /** Every floor run: window -> [before, after] msg/s. */
  readonly floorRuns: Readonly<Record<number, readonly [number, number]>>;
  readonly floorPerSec: number;
  /** relayPerSec / floorPerSec. */
  readonly ratio: number;
}

const PAYLOAD = { type: 'invoice.paid', data: { invoiceId: 'inv_123', amount: 4200, currency: 'EUR' } };

function message(i: number, destination: string): OutboxMessage {
  const payload = { ...PAYLOAD, seq: i };
  return {
    id: String(i),
    messageId: randomUUID(),
    kind: 'event',
    type: 'invoice.paid',
    destination,
    tenantId: null,
    orderingKey: null,
    payload,
    body: JSON.stringify(payload),
    headers: {},
    attempts: 1,
    maxAttempts: 1,
    createdAt: new Date(),
  };
}

/**
 * Runs the scenario once and returns its numbers (the caller prints them).
 *
 * @example
 * const r = await benchNats({ databaseUrl, messages: 20_000 });
 * console.log(r.relayPerSec, r.floorPerSec, r.ratio);
 */
export async function benchNats(options: {
  databaseUrl: string;
  messages: number;
  concurrency?: number;
  window?: number;
  natsUrl?: string;
}): Promise<NatsBenchResult> {
  const { messages } = options;
  const own = options.natsUrl ? undefined : await startNatsServer();
  const url = options.natsUrl ?? own!.url;
  // Opens no connection until its first publish.
  const direct = new NatsPublisher({ servers: url });
  // Unset: what the relay runs at its defaults for this publisher (Publisher.concurrency).
  const concurrency = options.concurrency ?? direct.concurrency;
  const windows = [...new Set([concurrency, options.window ?? 256])];
  const pool = benchPool(options.databaseUrl, 10);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const schema = uniqueName('bench_nats');
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const streams: string[] = [];
  const freshStream = async (): Promise<string> => {
    const name = uniqueName('BENCH').toUpperCase();
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    streams.push(name);
    return name;
  };
  try {
    // Floor: the raw client, `window` publishes in flight, each PubAck awaited.
    const js = jetstream(nc);
    const floor = async (window: number): Promise<number> => {
      const stream = await freshStream();
      const batch = Array.from({ length: messages }, (_, i) => message(i, `nats:${stream}.invoice`));
      const encoder = new TextEncoder();
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: window }, async () => {
          for (let i = next++; i < messages; i = next++) {
            const m = batch[i]!;
            const headers = natsHeaders(m, { prefix: DEFAULT_NATS_HEADER_PREFIX });
            await js.publish(`${stream}.invoice`, encoder.encode(m.body), { headers });
          }
        }),
      );
      return messages / ((performance.now() - started) / 1000);
    };
    const before: number[] = [];
    for (const w of windows) before.push(await floor(w));

    // Per-message publish() with the relay's concurrency, no database.
    const perMessageStream = await freshStream();
    const directBatch = Array.from({ length: messages }, (_, i) =>
      message(i, `nats:${perMessageStream}.invoice`),
    );
    let next = 0;
    const directStarted = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        // A signal per publish, as the relay gives each attempt its own.
        for (let i = next++; i < messages; i = next++) {
          const context = { signal: new AbortController().signal, attempt: 1, logger: NOOP_LOGGER };
          await direct.publish(directBatch[i]!, context);
        }
      }),
    );
    const perMessagePerSec = messages / ((performance.now() - directStarted) / 1000);
    await direct.close();

    // The relay: the same messages through the outbox table.
    const relayStream = await freshStream();
    await migrate(db, { schema });
    const outbox = createOutbox({ schema });
    for (let i = 0; i < messages; i += 5_000) {
      await outbox.addMany(
        db,
        Array.from({ length: Math.min(5_000, messages - i) }, (_, j) => ({
          type: 'invoice.paid',
          destination: `nats:${relayStream}.invoice`,
          payload: { ...PAYLOAD, seq: i + j },
        })),
      );
    }
    const publisher = new NatsPublisher({ servers: url });
    const relay = createRelay({
      db,
      schema,
      publishers: { nats: publisher },
      logger: NOOP_LOGGER,
      ...(options.concurrency === undefined ? {} : { concurrency }),
      batchSize: DEFAULT_BATCH_SIZE,
      pollIntervalMs: 5,
    });
    const { seconds, latencies, failed } = await timedDrain(relay, messages);
    const relayPerSec = messages / seconds;
    if (failed > 0) throw new Error(`${failed} publishes failed during the relay run`);
    const stored = (await jsm.streams.info(relayStream)).state.messages;
    if (stored !== messages) throw new Error(`the stream holds ${stored} of ${messages} messages`);

    const floorRuns: Record<number, readonly [number, number]> = {};
    const means = new Map<number, number>();
    for (const [i, w] of windows.entries()) {
      const runs = [before[i]!, await floor(w)] as const;
      floorRuns[w] = runs;
      means.set(w, (runs[0] + runs[1]) / 2);
    }
    const [best, floorPerSec] = [...means].reduce((a, b) => (b[1] > a[1] ? b : a));
    return {
      messages,
      concurrency,
      window: best,
      relayPerSec,
      relayP50Ms: percentile(latencies, 50),
      relayP99Ms: percentile(latencies, 99),
      perMessagePerSec,
      floorRuns,
      floorPerSec,
      ratio: relayPerSec / floorPerSec,
    };
  } finally {
    for (const name of streams) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await db.destroy();
    await own?.close();
  }
}

/** The result as the lines `bench/run.ts` parses. */
export function formatNatsBench(r: NatsBenchResult): string {
  const n = (x: number) => Math.round(x).toString();
  return [
    `nats relay: ${n(r.relayPerSec)} msg/s (${r.messages} messages, concurrency ${r.concurrency}); publish p50 ${r.relayP50Ms.toFixed(2)} ms, p99 ${r.relayP99Ms.toFixed(2)} ms`,
    `nats per-message publish(), no database: ${n(r.perMessagePerSec)} msg/s (concurrency ${r.concurrency})`,
    `nats floor: ${n(r.floorPerSec)} msg/s (raw client, ${r.window} acks in flight; runs before / after: ${Object.entries(
      r.floorRuns,
    )
      .map(([w, runs]) => `window ${w} ${runs.map(n).join(' / ')}`)
      .join(', ')})`,
    `nats ratio: relay / floor = ${r.ratio.toFixed(2)}, per-message / floor = ${(r.perMessagePerSec / r.floorPerSec).toFixed(2)}`,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const server = await startBenchPostgres();
  try {
    const result = await benchNats({
      databaseUrl: server.url,
      messages: Number(process.argv[2] ?? 20_000),
      concurrency: process.argv[3] ? Number(process.argv[3]) : undefined,
      window: process.argv[4] ? Number(process.argv[4]) : undefined,
      natsUrl: process.env.NATS_URL,
    });
    console.log(formatNatsBench(result));
  } finally {
    await server.stop();
  }
}
