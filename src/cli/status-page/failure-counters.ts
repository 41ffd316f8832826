import type { Relay } from '../../core/relay/relay.js';

/** Minutes of history kept: the status page looks back one hour. */
export const FAILURE_HISTORY_MINUTES = 60;

const MINUTE_MS = 60_000;

/**
 * Failed attempts (retries scheduled) per destination and minute, counted in this process from
 * its relay's `failed` events. There is no per-attempt table, so a retry leaves no trace in the
 * database beyond `attempts` and `last_error`: only the process that made the attempt knows
 * when it failed. Deaths are not counted here; the status page reads those from `dead_at`,
 * which covers every relay of the fleet.
 *
 * @example
 * const failures = new FailureCounters();
 * failures.observe(relay);
 * failures.count('webhook:acme', since, until);
 */
export class FailureCounters {
  /** minute start (ms) -> destination -> count. */
  private readonly minutes = new Map<number, Map<string, number>>();

  /** Counts every retry the relay schedules. The listener never throws. */
  observe(relay: Relay): void {
    relay.on('failed', (message) => this.add(message.destination, new Date()));
  }

  /** Counts one failed attempt of `destination` at `at`, and forgets minutes older than an hour. */
  add(destination: string, at: Date): void {
    const minute = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
    let byDestination = this.minutes.get(minute);
    if (!byDestination) {
      byDestination = new Map();
      this.minutes.set(minute, byDestination);
      // At most one new minute a minute: pruning here keeps the map at ~61 entries.
      for (const key of this.minutes.keys())
        if (key < minute - FAILURE_HISTORY_MINUTES * MINUTE_MS) this.minutes.delete(key);
    }
    byDestination.set(destination, (byDestination.get(destination) ?? 0) + 1);
  }

  /** Failures per destination and minute start (ms) within [since, until). */
  perMinute(since: Date, until: Date): Array<{ destination: string; minute: number; count: number }> {
    const out: Array<{ destination: string; minute: number; count: number }> = [];
    const from = Math.floor(since.getTime() / MINUTE_MS) * MINUTE_MS;
    for (const [minute, byDestination] of this.minutes) {
      if (minute < from || minute >= until.getTime()) continue;
      for (const [destination, count] of byDestination) out.push({ destination, minute, count });
    }
    return out;
  }
}
