/**
 * Blocked key: one ordering key whose head cannot be delivered (its router is offline: the
 * head fails with a one-hour Retry-After, or hangs in flight) while its producer keeps adding
 * messages behind it, next to healthy traffic on other keys. The promise under test: the
 * backlog costs the other keys nothing. The same backlog-free drain runs first, in the same
 * process and on the same server, so the figures are ratios within one run.
 * Used by the bench scenario `blocked-key` and by test/reliability/blocked-key.test.ts.
 * `paused` (issue #22 item 5): the backlog waits for a destination paused before it arrives
 * (pauseDestination), spread over 1,000 keys, next to the same healthy traffic.
 * `throttled` (issue #22 item 5): the backlog waits on a rate limit of 1/s (setDestinationPolicy)
 * for its destination, spread over 1,000 keys, next to the same healthy traffic.
 * Run: npx tsx bench/blocked-key.ts [backlog=200000] [others=10000] [keys=100] [failing|in_flight|paused|throttled] [rounds=3]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { TransientPublishError } from '../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import type { JsonValue } from '../src/core/foundation/json-value.js';
import { pauseDestination } from '../src/core/maintenance/destinations.js';
import { setDestinationPolicy } from '../src/core/maintenance/destination-limits.js';
import { THROTTLED_AT_SQL } from '../src/core/store/limit-sql.js';
import { migrate } from '../src/core/migrations/migrate.js';
import { createOutbox } from '../src/core/producer/outbox.js';
import { createRelay } from '../src/core/relay/relay.js';
import type { Publisher } from '../src/core/foundation/publisher.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { isMain } from './support/is-main.js';
import { median } from './support/stats.js';

/** The key whose head never gets through. */
export const BLOCKED_KEY = 'blocked-router';
/** The paused destination of the `paused` head mode. */
export const PAUSED_DESTINATION = 'noop:paused';
/** The destination limited to 1 message/s in the `throttled` head mode. */
export const THROTTLED_DESTINATION = 'noop:throttled';
const HOUR_MS = 3_600_000;

/** Options of one blocked-key comparison. */
export interface BlockedKeyOptions {
  url: string;
  /** Messages queued behind the blocked head. */
  backlog: number;
  /** Healthy messages, spread round-robin over `keys` other keys. */
  others: number;
  keys: number;
  /**
   * `failing`: the head fails with Retry-After 1 h; `in_flight`: its publish hangs (lease 1 h);
   * `paused`: the backlog is for a paused destination; `throttled`: for one limited to 1/s.
   */
  head: 'failing' | 'in_flight' | 'paused' | 'throttled';
  /** Each drain stops here even if unfinished (today's storage needs minutes at 200k). */
  timeLimitMs: number;
  /** Alternating rounds of both drains; figures are the medians (default 1). */
  rounds?: number;
}

/** One drain of the healthy messages. */
export interface DrainFigures {
  delivered: number;
  seconds: number;
  perSecond: number;
  /** All healthy messages delivered within the time limit. */
  finished: boolean;
  /** Claims that found rows during the drain (the relay's `claimed` events). */
  claims: number;
  claimMedianMs: number;
  claimMaxMs: number;
  /** Time to add the backlog and for the running relay to park it, before the drain's clock starts. */
  fillSeconds: number;
  /** Messages of the paused destination published (the promise: 0), or of the throttled one. */
  sentWhilePaused: number;
}

/** The drain without and with the blocked backlog, and their ratios. */
export interface BlockedKeyFigures {
  options: Omit<BlockedKeyOptions, 'url'>;
  without: DrainFigures;
  with: DrainFigures;
  /** The median over rounds of with.perSecond / without.perSecond: the goal is >= 0.8. */
  drainRatio: number;
  /** Each round's with.perSecond / without.perSecond. */
  drainRatios: number[];
  /** The median over rounds of with / without claim median (the goal is <= 2), and the max's ratio. */
  claimMedianRatio: number;
  /** Each round's with / without claim median. */
  claimMedianRatios: number[];
  claimMaxRatio: number;
}

async function addInChunks(
  pool: pg.Pool,
  schema: string,
  count: number,
  message: (i: number) => { orderingKey: string; payload: JsonValue },
  destination = 'noop',
): Promise<void> {
  const outbox = createOutbox({ schema });
  for (let i = 0; i < count; i += 5_000) {
    const n = Math.min(5_000, count - i);
    await outbox.addMany(
      pool,
      Array.from({ length: n }, (_, j) => ({
        type: 'bench.blocked-key',
        destination,
        ...message(i + j),
      })),
    );
  }
}

/**
 * Waits until the relay has parked the blocked key's backlog (all but its head). Polls the
 * table: a bench may look inside, the relay itself never needs to.
 */
async function waitUntilParked(pool: pg.Pool, schema: string, backlog: number): Promise<void> {
  const deadline = performance.now() + 600_000;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from "${schema}".messages where ordering_key = $1 and parked`,
      [BLOCKED_KEY],
    );
    if ((rows[0]?.n ?? 0) >= backlog) return;
    if (performance.now() > deadline)
      throw new Error(`backlog not parked after 600 s: ${rows[0]?.n} of ${backlog}`);
    await sleep(100);
  }
}

/** Waits until the relay has held every message of the paused destination out of the claim index. */
async function waitUntilHeld(pool: pg.Pool, schema: string, backlog: number): Promise<void> {
  const deadline = performance.now() + 600_000;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from "${schema}".messages
        where destination = $1 and (available_at = 'infinity' or parked)`,
      [PAUSED_DESTINATION],
    );
    if ((rows[0]?.n ?? 0) >= backlog) return;
    if (performance.now() > deadline)
      throw new Error(`backlog not held after 600 s: ${rows[0]?.n} of ${backlog}`);
    await sleep(100);
  }
}

/** Waits until the relay has throttled the limited destination's backlog (or parked it behind its keys). */
async function waitUntilThrottled(pool: pg.Pool, schema: string, backlog: number): Promise<void> {
  const deadline = performance.now() + 600_000;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from "${schema}".messages
        where destination = $1 and (available_at = ${THROTTLED_AT_SQL} or parked or status = 'in_flight')`,
      [THROTTLED_DESTINATION],
    );
    if ((rows[0]?.n ?? 0) >= backlog - 100) return;
    if (performance.now() > deadline)
      throw new Error(`backlog not throttled after 600 s: ${rows[0]?.n} of ${backlog}`);
    await sleep(100);
  }
}

/** Drains the healthy messages of a fresh schema holding `backlog` messages behind the blocked key. */
async function drainPhase(options: BlockedKeyOptions, backlog: number): Promise<DrainFigures> {
  const pool = benchPool(options.url, 6);
  const schema = uniqueName('bench_blocked');
  const stopping = new AbortController();
  try {
    await migrate(pool, { schema });
    let delivered = 0;
    let sentWhilePaused = 0;
    const claimMs: number[] = [];
    let allDelivered: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allDelivered = resolve;
    });
    const publisher: Publisher = {
      name: 'noop',
      async publish(message, context) {
        if (message.destination === PAUSED_DESTINATION || message.destination === THROTTLED_DESTINATION)
          sentWhilePaused++;
        if (message.destination === THROTTLED_DESTINATION) return;
        if (message.orderingKey !== BLOCKED_KEY) return;
        if (options.head === 'failing')
          throw new TransientPublishError('router offline', { retryAfterMs: HOUR_MS });
        // Hangs until the relay gives up on it (stop), like a router that accepted the TCP
        // connection and never answers.
        await new Promise<void>((resolve) => {
          const abort = () => resolve();
          context.signal.addEventListener('abort', abort, { once: true });
          stopping.signal.addEventListener('abort', abort, { once: true });
        });
        throw new TransientPublishError('router did not answer');
      },
    };
    const relay = createRelay({
      db: pool,
      schema,
      publishers: { noop: publisher },
      logger: NOOP_LOGGER,
      // A one-hour lease keeps a hanging head in flight for the whole run.
      ...(options.head === 'in_flight' ? { leaseMs: HOUR_MS } : {}),
    });
    relay.on('claimed', (_count, info) => claimMs.push(info.durationMs));
    relay.on('delivered', (message) => {
      if (message.orderingKey === BLOCKED_KEY || message.destination === THROTTLED_DESTINATION) return;
      if (++delivered === options.others) allDelivered();
    });
    // The relay runs while the backlog builds up, as it does while a router is offline: the
    // head goes out first and fails (or hangs), and its followers are parked as they arrive.
    if (options.head === 'paused') await pauseDestination(pool, PAUSED_DESTINATION, { schema });
    if (options.head === 'throttled')
      await setDestinationPolicy(pool, THROTTLED_DESTINATION, { ratePerSecond: 1, burst: 1 }, { schema });
    relay.start();
    const filled = performance.now();
    if (backlog > 0 && (options.head === 'paused' || options.head === 'throttled')) {
      const paused = options.head === 'paused';
      await addInChunks(
        pool,
        schema,
        backlog,
        (i) => ({ orderingKey: `p${i % 1000}`, payload: { i } }),
        paused ? PAUSED_DESTINATION : THROTTLED_DESTINATION,
      );
      if (paused) await waitUntilHeld(pool, schema, backlog);
      else await waitUntilThrottled(pool, schema, backlog);
    } else if (backlog > 0) {
      await addInChunks(pool, schema, backlog + 1, (i) => ({ orderingKey: BLOCKED_KEY, payload: { i } }));
      await waitUntilParked(pool, schema, backlog);
    }
    // A backlog that built up over hours has been vacuumed along the way; one added in seconds
    // would have autovacuum clean up after its parking during the measured drain instead.
    await pool.query(`vacuum analyze "${schema}".messages`);
    // Start both drains with no dirty pages waiting: otherwise the checkpoint the 50k fill brings
    // on lands in whichever drain comes next (claim medians of 2.4-2.9x in some rounds, 0.9-1.2x
    // in the others of the same run). Needs a superuser; skipped where the role is not one.
    await pool.query('checkpoint').catch(() => undefined);
    const fillSeconds = (performance.now() - filled) / 1000;
    claimMs.length = 0;
    const started = performance.now();
    await addInChunks(pool, schema, options.others, (i) => ({
      orderingKey: `k${i % options.keys}`,
      payload: { i },
    }));
    const finished = await Promise.race([
      done.then(() => true),
      sleep(options.timeLimitMs, false, { signal: stopping.signal }).catch(() => false),
    ]);
    const seconds = (performance.now() - started) / 1000;
    stopping.abort();
    await relay.stop({ timeoutMs: 5_000 });
    return {
      delivered,
      seconds,
      perSecond: delivered / seconds,
      finished,
      claims: claimMs.length,
      claimMedianMs: median(claimMs),
      claimMaxMs: Math.max(...claimMs),
      fillSeconds,
      sentWhilePaused,
    };
  } finally {
    stopping.abort();
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

/** The kinds of blocked head a comparison can run. */
export type BlockedHead = BlockedKeyOptions['head'];

/**
 * Runs `rounds` rounds, each a drain without backlog followed by one drain per head in `heads`
 * (each with `backlog` messages behind that head), and compares every head with the same
 * backlog-free drains. One baseline for several heads costs a drain per head per round, not two.
 *
 * @example
 * const f = await blockedKeyComparison({ url, backlog: 50_000, others: 4_000, keys: 100, heads: ['failing', 'paused'], timeLimitMs: 60_000, rounds: 5 });
 * console.log(f.paused.drainRatio); // >= 0.8 is the goal
 */
export async function blockedKeyComparison<H extends BlockedHead>(
  options: Omit<BlockedKeyOptions, 'head' | 'rounds'> & { heads: readonly H[]; rounds: number },
): Promise<Record<H, BlockedKeyFigures>> {
  const { heads, ...common } = options;
  const withouts: DrainFigures[] = [];
  const withs = new Map<H, DrainFigures[]>(heads.map((h) => [h, []]));
  for (let round = 0; round < options.rounds; round++) {
    withouts.push(await drainPhase({ ...common, head: 'failing' }, 0));
    for (const head of heads) withs.get(head)!.push(await drainPhase({ ...common, head }, options.backlog));
  }
  const { url: _url, ...rest } = common;
  return Object.fromEntries(
    heads.map((head) => [head, compareDrains({ ...rest, head }, withouts, withs.get(head)!)]),
  ) as Record<H, BlockedKeyFigures>;
}

/**
 * Drains `others` healthy messages without, then with, `backlog` messages queued behind a
 * blocked key, and returns both drains and their ratios.
 *
 * @example
 * const f = await blockedKeyScenario({ url, backlog: 200_000, others: 10_000, keys: 100, head: 'failing', timeLimitMs: 60_000 });
 * console.log(f.drainRatio); // >= 0.8 is the goal
 */
export async function blockedKeyScenario(options: BlockedKeyOptions): Promise<BlockedKeyFigures> {
  const { head, rounds, ...rest } = options;
  return (await blockedKeyComparison({ ...rest, heads: [head], rounds: rounds ?? 1 }))[head];
}

/**
 * Both sides as medians, and the ratios as the median of each round's own ratio: the drains of
 * a round run seconds apart, so a burst of load from a neighbour on a shared box moves both or
 * neither more often than it moves the medians of two separate series (CI saw a drain ratio of
 * 0.79 and a claim ratio of 2.06 from true ratios near 1).
 */
function compareDrains(
  options: Omit<BlockedKeyOptions, 'url'>,
  withouts: DrainFigures[],
  withs: DrainFigures[],
): BlockedKeyFigures {
  const perRound = (of: (d: DrainFigures) => number) => withs.map((w, i) => of(w) / of(withouts[i]!));
  const without = medianDrain(withouts);
  const withBacklog = medianDrain(withs);
  const drainRatios = perRound((d) => d.perSecond);
  const claimMedianRatios = perRound((d) => d.claimMedianMs);
  return {
    options,
    without,
    with: withBacklog,
    drainRatio: median(drainRatios),
    drainRatios,
    claimMedianRatio: median(claimMedianRatios),
    claimMedianRatios,
    claimMaxRatio: withBacklog.claimMaxMs / without.claimMaxMs,
  };
}

/** The drain with the median rate, its claim median replaced by the median over all drains. */
function medianDrain(drains: DrainFigures[]): DrainFigures {
  const sorted = [...drains].sort((a, b) => a.perSecond - b.perSecond);
  const mid = sorted[Math.floor(sorted.length / 2)]!;
  return {
    ...mid,
    claimMedianMs: median(drains.map((d) => d.claimMedianMs)),
    finished: drains.every((d) => d.finished),
    sentWhilePaused: drains.reduce((n, d) => n + d.sentWhilePaused, 0),
  };
}

/** The figures as one printable line. */
export function blockedKeyLine(f: BlockedKeyFigures): string {
  const rounds = (ratios: number[]) => ratios.map((r) => r.toFixed(2)).join(' ');
  const d = (x: DrainFigures) =>
    `${Math.round(x.perSecond)} msg/s (${x.delivered} in ${x.seconds.toFixed(1)} s${x.finished ? '' : ', stopped at the time limit'}), ` +
    `claim median ${x.claimMedianMs.toFixed(1)} ms / max ${x.claimMaxMs.toFixed(1)} ms over ${x.claims} claims`;
  return [
    `${f.options.others} messages over ${f.options.keys} keys`,
    `without backlog: ${d(f.without)}`,
    f.options.head === 'paused'
      ? `with ${f.options.backlog} waiting for a paused destination (${f.with.sentWhilePaused} sent to it): ${d(f.with)}`
      : f.options.head === 'throttled'
        ? `with ${f.options.backlog} waiting on a 1/s limit (${f.with.sentWhilePaused} sent to it): ${d(f.with)}`
        : `with ${f.options.backlog} behind a ${f.options.head} head: ${d(f.with)}`,
    `drain ratio ${f.drainRatio.toFixed(3)}x (goal >= 0.8; rounds ${rounds(f.drainRatios)}), ` +
      `claim median x${f.claimMedianRatio.toFixed(1)} (rounds ${rounds(f.claimMedianRatios)}) / max x${f.claimMaxRatio.toFixed(1)} (goal <= 2)`,
  ].join('; ');
}

if (isMain(import.meta.url)) {
  const [backlog = '200000', others = '10000', keys = '100', head = 'failing', rounds = '3'] =
    process.argv.slice(2);
  if (head !== 'failing' && head !== 'in_flight' && head !== 'paused' && head !== 'throttled')
    throw new Error(`head must be failing, in_flight, paused or throttled, got "${head}"`);
  const server = await startBenchPostgres();
  try {
    const f = await blockedKeyScenario({
      url: server.url,
      backlog: Number(backlog),
      others: Number(others),
      keys: Number(keys),
      head,
      timeLimitMs: 120_000,
      rounds: Number(rounds),
    });
    console.log(`blocked key: ${blockedKeyLine(f)}`);
  } finally {
    await server.stop();
  }
}
