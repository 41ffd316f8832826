import type { RunSql } from '../../core/foundation/queryable.js';
import type { MinuteCountRow, StatusStore } from '../../core/store/status-store.js';

const MINUTE_MS = 60_000;

/**
 * Deliveries per destination and minute over the last hour, read so that a refresh every few
 * seconds does not count the whole hour again. A minute that ended before the 5-minute window
 * is settled: its delivered rows no longer change (write-back lag and relay clock skew are far
 * below 5 minutes; delivered rows are only ever deleted by cleanup, days later). Settled minutes
 * are read once and kept; each call reads only the minutes since, which also gives the exact
 * 5-minute counts. At 100 deliveries a second, that is ~36k index entries instead of 360k.
 *
 * @example
 * const minutes = new DeliveredMinutes(store);
 * const rows = await minutes.read(run, { since, recentSince });
 */
export class DeliveredMinutes {
  /** Settled minute start (ms) -> its rows; every minute in [from, until) is present. */
  private settled = new Map<number, MinuteCountRow[]>();
  private settledFrom = 0;
  private settledUntil = 0;

  constructor(private readonly store: StatusStore) {}

  /** Rows for [since, now), with `recent` counting rows at or after `recentSince`. */
  async read(run: RunSql, window: { since: Date; recentSince: Date }): Promise<MinuteCountRow[]> {
    const since = window.since.getTime();
    const settleBefore = Math.floor(window.recentSince.getTime() / MINUTE_MS) * MINUTE_MS;
    // What is cached must cover [since, settledUntil) without a gap, or it is read again.
    const usable = this.settledFrom <= since && this.settledUntil > since;
    const from = usable ? this.settledUntil : since;
    // Taken before the await: a concurrent read may replace it, and its minutes overlap ours.
    const previous = this.settled;
    const fresh = await this.store.deliveredPerMinute(run, {
      since: new Date(from),
      recentSince: window.recentSince,
    });
    const settled = new Map<number, MinuteCountRow[]>();
    if (usable) for (const [m, rows] of previous) if (m >= since) settled.set(m, rows);
    const live: MinuteCountRow[] = [];
    for (const row of fresh) {
      const m = row.minute.getTime();
      if (m < settleBefore) settled.set(m, [...(settled.get(m) ?? []), { ...row, recent: 0 }]);
      else live.push(row);
    }
    this.settled = settled;
    this.settledFrom = since;
    this.settledUntil = Math.max(from, settleBefore);
    return [...[...settled.values()].flat(), ...live];
  }
}
