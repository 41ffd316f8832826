// Rate limits (issue #22 item 2): how close relays sharing one limit come to it at the receiver,
// with 1 and 3 relays (each with its own pool, so each claims on its own connections), and what
// flow control costs a destination without a limit: the same no-op drain with no limit in the
// table, and with a limit on another destination whose backlog waits throttled (and, apart, how
// long the hold pass took to throttle that backlog).
// Run alone: npx tsx bench/limits.ts [rate=200] [seconds=5] [messages=100000] [runs=5]
import { createOutbox } from '../src/core/producer/outbox.js';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import { setDestinationPolicy } from '../src/core/maintenance/destination-limits.js';
import { migrate } from '../src/core/migrations/migrate.js';
import { THROTTLE_BATCH_SIZE } from '../src/core/relay/destination-limits.js';
import { createRelay } from '../src/core/relay/relay.js';
import { sqlRunner } from '../src/core/foundation/queryable.js';
import { DestinationLimitStore } from '../src/core/store/index.js';
import { fillOutbox } from './drain.js';
import { alternate } from './scenario.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { median } from './support/stats.js';
import { isMain } from './support/is-main.js';
import { noopPublisher } from './support/noop-publisher.js';

/** One accuracy run: the limit, and the rate the publishers saw once the first burst was out. */
export interface LimitAccuracy {
  relays: number;
  target: number;
  achieved: number;
  delivered: number;
}

/**
 * Starts `relays` relays on one schema whose destination `noop:limited` is limited to `rate`/s
 * (burst `burst`) and holds more than they may send in `seconds`; returns the rate the no-op
 * publishers saw after the first `burst` messages.
 */
export async function limitAccuracy(
  url: string,
  options: { relays: number; rate: number; burst: number; seconds: number },
): Promise<LimitAccuracy> {
  const pools = Array.from({ length: options.relays }, () => benchPool(url, 3));
  const pool = pools[0]!;
  const schema = uniqueName('bench_limits');
  try {
    await migrate(pool, { schema });
    await setDestinationPolicy(
      pool,
      'noop:limited',
      { ratePerSecond: options.rate, burst: options.burst },
      { schema },
    );
    const total = Math.ceil(options.rate * options.seconds * 1.5) + options.burst;
    const outbox = createOutbox({ schema });
    for (let i = 0; i < total; i += 5_000)
      await outbox.addMany(
        pool,
        Array.from({ length: Math.min(5_000, total - i) }, (_, j) => ({
          type: 'bench.limits',
          destination: 'noop:limited',
          payload: { i: i + j },
        })),
      );
    const at: number[] = [];
    const relays = pools.map((db) =>
      createRelay({
        db,
        schema,
        publishers: { noop: noopPublisher(() => at.push(performance.now())) },
        logger: NOOP_LOGGER,
      }),
    );
    for (const r of relays) r.start();
    const started = performance.now();
    while (performance.now() - started < options.seconds * 1000) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(relays.map((r) => r.stop()));
    const after = at.slice(options.burst);
    const achieved = after.length > 1 ? (after.length - 1) / ((after.at(-1)! - after[0]!) / 1000) : 0;
    return {
      relays: options.relays,
      target: options.rate,
      achieved: +achieved.toFixed(1),
      delivered: at.length,
    };
  } finally {
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await Promise.all(pools.map((p) => p.end()));
  }
}

/** Which flow control the unlimited drain runs beside. */
export type LimitsDrainMode = 'none' | 'other';

/** One unlimited drain: its rate, and (mode `other`) how long the hold pass took to throttle the other backlog. */
export interface UnlimitedDrainRun {
  perSecond: number;
  holdMs: number;
}

/**
 * Drains `messages` no-op messages of an unlimited destination once: with no limit in the table
 * (`none`), or (`other`) with a limit of 1/s on destination `other:x` whose 2,000 waiting
 * messages are already throttled when the drain starts, as a running relay's hold pass leaves
 * them: the steady state a long drain sees. That hold pass is timed on its own (`holdMs`): it is
 * paid once per limited row that becomes due, whatever the unlimited destinations do, and inside
 * a 20k drain of half a second it would read as a per-message cost of several percent.
 */
export async function unlimitedDrain(
  url: string,
  messages: number,
  mode: LimitsDrainMode,
): Promise<UnlimitedDrainRun> {
  const pool = benchPool(url, 4);
  const schema = uniqueName('bench_limits_drain');
  try {
    await fillOutbox(pool, schema, messages);
    let holdMs = 0;
    if (mode === 'other') {
      await setDestinationPolicy(pool, 'other:x', { ratePerSecond: 1, burst: 1 }, { schema });
      await createOutbox({ schema }).addMany(
        pool,
        Array.from({ length: 2_000 }, (_, i) => ({
          type: 'bench.limits',
          destination: 'other:x',
          payload: { i },
        })),
      );
      const started = performance.now();
      const held = await new DestinationLimitStore(schema).hold(sqlRunner(pool), {
        limit: THROTTLE_BATCH_SIZE,
      });
      holdMs = performance.now() - started;
      if (held !== 2_000) throw new Error(`the hold pass throttled ${held} of 2,000 rows`);
    }
    await pool.query(`vacuum analyze "${schema}".messages`);
    const relay = createRelay({
      db: pool,
      schema,
      // `other` too, so the limited claim runs beside the main one in every round.
      publishers: { noop: noopPublisher(), other: noopPublisher() },
      logger: NOOP_LOGGER,
    });
    let delivered = 0;
    const done = new Promise<void>((resolve) =>
      relay.on('delivered', (m) => {
        if (m.destination === 'noop' && ++delivered === messages) resolve();
      }),
    );
    const started = performance.now();
    relay.start();
    await done;
    const seconds = (performance.now() - started) / 1000;
    await relay.stop();
    return { perSecond: Math.round(messages / seconds), holdMs: +holdMs.toFixed(1) };
  } finally {
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

/**
 * The unlimited drain with no limit and beside another's limit, alternating; medians, their
 * ratio, and the median time the hold pass took to throttle the other destination's 2,000 rows.
 */
export async function unlimitedDrainCost(url: string, messages: number, runs: number) {
  const holds: number[] = [];
  const m = await alternate(runs, {
    none: async () => (await unlimitedDrain(url, messages, 'none')).perSecond,
    other: async () => {
      const r = await unlimitedDrain(url, messages, 'other');
      holds.push(r.holdMs);
      return r.perSecond;
    },
  });
  return {
    none: m.none,
    other: m.other,
    ratio: +(m.other.median / m.none.median).toFixed(3),
    holdMs: median(holds),
  };
}

if (isMain(import.meta.url)) {
  const { startBenchPostgres } = await import('./support/bench-postgres.js');
  const [rate = '200', seconds = '5', messages = '100000', runs = '5'] = process.argv.slice(2);
  const server = await startBenchPostgres();
  try {
    for (const relays of [1, 3])
      console.log(
        JSON.stringify(
          await limitAccuracy(server.url, {
            relays,
            rate: Number(rate),
            burst: 10,
            seconds: Number(seconds),
          }),
        ),
      );
    console.log(JSON.stringify(await unlimitedDrainCost(server.url, Number(messages), Number(runs))));
  } finally {
    await server.stop();
  }
}
