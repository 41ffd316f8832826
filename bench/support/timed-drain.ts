import type { Relay } from '../../src/core/relay/relay.js';

/** What one timed drain of a publisher bench measured. */
export interface TimedDrain {
  /** From `start()` to the last delivery. */
  readonly seconds: number;
  /** Each delivery's publish time (ms), sorted for percentiles. */
  readonly latencies: number[];
  /** Failed attempts seen on the way (retried by the relay). */
  readonly failed: number;
}

/**
 * Starts `relay`, waits for `messages` deliveries and stops it: the drain every publisher bench
 * (webhook, nats) times the same way.
 *
 * @example
 * const { seconds, latencies } = await timedDrain(relay, 10_000);
 */
export async function timedDrain(relay: Relay, messages: number): Promise<TimedDrain> {
  const latencies: number[] = [];
  let delivered = 0;
  let failed = 0;
  relay.on('failed', () => failed++);
  const done = new Promise<void>((resolve) => {
    relay.on('delivered', (_, info) => {
      latencies.push(info.durationMs);
      if (++delivered === messages) resolve();
    });
  });
  const started = performance.now();
  relay.start();
  await done;
  const seconds = (performance.now() - started) / 1000;
  await relay.stop();
  latencies.sort((a, b) => a - b);
  return { seconds, latencies, failed };
}
