// The cost of the attempt log (ATTEMPT_LOG) on the drain: no-op drains of N messages with
// ATTEMPT_LOG=off, failures and all, alternating, medians of R runs each, printed as JSON with
// each mode's rate as a ratio of off. Every message is delivered, so `failures` writes nothing
// here: it shows that the default costs nothing while nothing fails; `all` writes one log row
// per delivery inside the delivered write-back.
// Run alone: DATABASE_URL=... npx tsx bench/attempt-log.ts [messages=20000] [runs=3]
import type { AttemptLogMode } from '../src/index.js';
import { alternate } from './scenario.js';
import { cpuDrain } from './cpu-drain.js';
import { isMain } from './support/is-main.js';

/** Median msg/s and relay CPU per message of each mode, and each mode's rate over off's. */
export type AttemptLogCost = Record<
  AttemptLogMode,
  { perSecond: number; samples: number[]; ratioToOff: number; cpuUs: number }
>;

/** Drains `messages` per run with each ATTEMPT_LOG mode, `runs` times each, alternating. */
export async function attemptLogCost(url: string, messages: number, runs: number): Promise<AttemptLogCost> {
  const cpu: Record<AttemptLogMode, number[]> = { off: [], failures: [], all: [] };
  const drain = (attemptLog: AttemptLogMode) => async () => {
    const r = await cpuDrain(url, messages, { attemptLog });
    cpu[attemptLog].push(r.cpuUs);
    return r.perSecond;
  };
  const m = await alternate(runs, { off: drain('off'), failures: drain('failures'), all: drain('all') });
  const row = (mode: AttemptLogMode) => ({
    perSecond: m[mode].median,
    samples: m[mode].samples,
    ratioToOff: +(m[mode].median / m.off.median).toFixed(3),
    cpuUs: cpu[mode].sort((a, b) => a - b)[Math.floor(cpu[mode].length / 2)]!,
  });
  return { off: row('off'), failures: row('failures'), all: row('all') };
}

if (isMain(import.meta.url)) {
  const { startBenchPostgres } = await import('./support/bench-postgres.js');
  const server = await startBenchPostgres();
  try {
    const cost = await attemptLogCost(
      server.url,
      Number(process.argv[2] ?? 20_000),
      Number(process.argv[3] ?? 3),
    );
    console.log(JSON.stringify(cost, null, 2));
  } finally {
    await server.stop();
  }
}
