/**
 * Latency from COMMIT returning in the producer to the handler/publisher starting, at a
 * steady rate, for any system: the caller supplies the write and starts the consumer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { percentile } from './support/stats.js';

/** Options of one steady-rate latency run. */
export interface SteadyOptions {
  rate: number;
  seconds: number;
  /** The producer's write inside BEGIN ... COMMIT; `seq` must reach the consumer's `onStart`. */
  write: (client: pg.Client, seq: number) => Promise<unknown>;
}

/** p50/p99 of commit -> start and how many messages were measured. */
export interface LatencyResult {
  p50: number;
  p99: number;
  count: number;
  missing: number;
}

/**
 * Produces `rate` messages/s for `seconds` on 4 connections and returns commit -> start
 * latencies. `startConsumer` gets the callback to call with `seq` when a message starts.
 */
export async function steadyLatency(
  url: string,
  options: SteadyOptions,
  startConsumer: (onStart: (seq: number) => void) => Promise<() => Promise<void>>,
): Promise<LatencyResult> {
  const total = Math.round(options.rate * options.seconds);
  const committedAt = new Float64Array(total).fill(Number.NaN);
  const startedAt = new Float64Array(total).fill(Number.NaN);
  let startedCount = 0;
  const stopConsumer = await startConsumer((seq) => {
    if (seq >= 0 && seq < total && Number.isNaN(startedAt[seq]!)) {
      startedAt[seq] = performance.now();
      startedCount++;
    }
  });
  const idle: pg.Client[] = [];
  for (let i = 0; i < 4; i++) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    idle.push(c);
  }
  const all = [...idle];
  const inFlight = new Set<Promise<void>>();
  try {
    const intervalMs = 1000 / options.rate;
    const t0 = performance.now();
    for (let seq = 0; seq < total; seq++) {
      const due = t0 + seq * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      while (idle.length === 0) await Promise.race(inFlight);
      const c = idle.pop()!;
      const p = (async () => {
        await c.query('begin');
        await options.write(c, seq);
        await c.query('commit');
        committedAt[seq] = performance.now();
        idle.push(c);
      })();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.all(inFlight);
    const deadline = performance.now() + 10_000;
    while (startedCount < total && performance.now() < deadline) await sleep(10);
  } finally {
    await stopConsumer();
    await Promise.all(all.map((c) => c.end()));
  }
  const latencies: number[] = [];
  for (let i = 0; i < total; i++) {
    // A consumer may see the row before the producer's COMMIT reply is processed: that is 0.
    if (!Number.isNaN(startedAt[i]!)) latencies.push(Math.max(0, startedAt[i]! - committedAt[i]!));
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    count: latencies.length,
    missing: total - latencies.length,
  };
}
