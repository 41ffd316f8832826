// Same-run A/B of relay CPU: one drain of N messages with a no-op publisher through the public
// entry (src/index.js, the same in every version), printing msg/s and relay CPU per message
// (process.cpuUsage over the drain) as JSON. Copy it into a checkout of another commit and run
// both against one DATABASE_URL, alternating: npx tsx bench/cpu-drain.ts [messages=50000]
// With PROFILE=<file.cpuprofile> it also profiles the drain (the inspector's sampling profiler,
// started after the fill) and prints the busiest functions (bench/notes/relay-cpu.md).
import { Session } from 'node:inspector/promises';
import fs from 'node:fs';
import { type AttemptLogMode, createRelay, NOOP_LOGGER, type Publisher } from '../src/index.js';
import { fillOutbox } from './drain.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { isMain } from './support/is-main.js';
import { profileSummary } from './support/profile-summary.js';
import { noopPublisher } from './support/noop-publisher.js';

/**
 * Fills an outbox with `messages` and drains it once; msg/s and relay CPU µs per message.
 * `attemptLog` is the relay's (default: the library's, `failures`); `publisher` replaces the
 * no-op one; `beforeDrain` runs between fill and drain.
 */
export async function cpuDrain(
  url: string,
  messages: number,
  options: {
    attemptLog?: AttemptLogMode;
    publisher?: Publisher;
    beforeDrain?: () => void;
    /** Writes a CPU profile of the drain (not the fill) to this file. */
    profile?: string;
  } = {},
): Promise<{ perSecond: number; cpuUs: number }> {
  const { publisher, beforeDrain, profile, ...relayOptions } = options;
  const pool = benchPool(url, 4);
  const schema = uniqueName('bench_cpu');
  try {
    await fillOutbox(pool, schema, messages);
    beforeDrain?.();
    const relay = createRelay({
      db: pool,
      schema,
      publishers: { noop: publisher ?? noopPublisher() },
      logger: NOOP_LOGGER,
      ...relayOptions,
    });
    let delivered = 0;
    const done = new Promise<void>((resolve) => {
      relay.on('delivered', () => {
        if (++delivered === messages) resolve();
      });
    });
    const session = profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const cpu = process.cpuUsage();
    const started = performance.now();
    relay.start();
    await done;
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (session && profile) {
      fs.writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
      session.disconnect();
    }
    await relay.stop();
    return {
      perSecond: Math.round(messages / seconds),
      cpuUs: +((used.user + used.system) / messages).toFixed(2),
    };
  } finally {
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

if (isMain(import.meta.url)) {
  const profile = process.env.PROFILE;
  const messages = Number(process.argv[2] ?? 50_000);
  console.log(
    JSON.stringify(await cpuDrain(process.env.DATABASE_URL!, messages, profile ? { profile } : {})),
  );
  if (profile) console.log(profileSummary(profile, 30));
}
