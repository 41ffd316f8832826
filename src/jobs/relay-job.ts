import { type Clock, epochMs } from '../core/foundation/clock.js';
import type { Relay, RoundResult } from '../core/relay/relay.js';
import type { JobFunction } from './scheduler.js';

/** A drain stops after this long so one tick never runs into the next by much. Default 5 minutes. */
export const DEFAULT_RELAY_DRAIN_MS = 5 * 60_000;

/**
 * Rounds until the outbox has nothing due; stops early when `signal` aborts or after `maxMs`.
 * Used by `outbox-relay run --drain` and the `relay` job.
 *
 * @example
 * const totals = await drainRelay(relay, { maxMs: 60_000 });
 */
export async function drainRelay(
  relay: Relay,
  options: { signal?: AbortSignal; maxMs?: number; clock?: Clock } = {},
): Promise<RoundResult & { rounds: number }> {
  const totals = { claimed: 0, delivered: 0, retried: 0, dead: 0, rounds: 0 };
  const deadline = epochMs(options.clock) + (options.maxMs ?? DEFAULT_RELAY_DRAIN_MS);
  while (!options.signal?.aborted && epochMs(options.clock) < deadline) {
    const r = await relay.runOnce();
    totals.rounds++;
    totals.claimed += r.claimed;
    totals.delivered += r.delivered;
    totals.retried += r.retried;
    totals.dead += r.dead;
    // A round that only dead-lettered crash-looping rows (claimed 0, dead > 0) may have more.
    if (r.claimed === 0 && r.dead === 0) break;
  }
  return totals;
}

/**
 * The built-in `relay` job: drains the outbox once per tick (OUTBOX_CRON), for deployments
 * that relay on a schedule instead of continuously.
 *
 * @example
 * scheduler.register('relay', '* * * * *', relayJob(createRelay({ db, publishers })));
 */
export function relayJob(relay: Relay, options: { maxMs?: number } = {}): JobFunction {
  return ({ signal }) => drainRelay(relay, { signal, ...(options.maxMs ? { maxMs: options.maxMs } : {}) });
}
