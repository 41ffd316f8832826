import type { Clock } from '../foundation/clock.js';
import type { RunSql } from '../foundation/queryable.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import type { DestinationRow, DestinationStore } from '../store/index.js';
import type { DestinationPauseInfo } from './relay-events.js';
import type { Written } from './write-back.js';

/** Most rows one hold statement moves (the same bound as parking). */
export const HOLD_BATCH_SIZE = 2_000;
/** Least pause between looks at the paused destinations (and hold passes). */
export const PAUSE_CHECK_INTERVAL_MS = 500;

/** Where pauses are announced: the relay's events. */
export interface PauseListener {
  notify(event: 'destination.paused', info: DestinationPauseInfo): void;
  notify(event: 'destination.resumed', info: { destination: string }): void;
}

/**
 * The relay's side of paused destinations (docs/destinations.md). Before its claims it reads the
 * paused destinations (a tiny table) at most every `PAUSE_CHECK_INTERVAL_MS`, announces pauses and resumes it had not seen (made by any process:
 * the CLI, the page, another relay's 410), and holds the rows of paused destinations that
 * became due since the pause (added, retried or unparked later), so claims skip them through
 * the index instead of walking past them. Before claims, not only after short ones like
 * parking: under a steady full load new rows of a paused destination would otherwise pile up in
 * front of every claim.
 *
 * @example
 * const pauses = new DestinationPauses(new DestinationStore('outbox'), run, undefined, listener);
 * await pauses.look(); // then claim
 */
export class DestinationPauses {
  /** Paused destinations as last announced: name -> what was announced. */
  private readonly known = new Map<string, string>();
  private nextPassAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: DestinationStore,
    private readonly run: RunSql,
    private readonly clock: Clock | undefined,
    private readonly listener: PauseListener,
  ) {}

  /** Looks at the pauses and holds new rows of paused destinations, unless it did moments ago; returns rows held. */
  async look(): Promise<number> {
    const started = performance.now();
    if (started < this.nextPassAt) return 0;
    this.nextPassAt = started + PAUSE_CHECK_INTERVAL_MS;
    const clock = this.clock ? { clock: this.clock } : {};
    const paused = await this.store.list(this.run, { ...clock, pausedOnly: true });
    this.announce(paused);
    if (paused.length === 0) return 0;
    return repeatUntilShort(HOLD_BATCH_SIZE, () =>
      this.store.holdPaused(this.run, { ...clock, limit: HOLD_BATCH_SIZE }),
    );
  }

  /** A write-back of this relay paused a destination (its receiver answered 410 Gone). */
  written(w: Extract<Written, { kind: 'paused' }>): void {
    this.announceOne({
      destination: w.message.destination,
      reason: w.reason,
      until: null,
      message: w.message,
    });
  }

  private announce(rows: readonly DestinationRow[]): void {
    const now = new Set(rows.map((r) => r.name));
    for (const name of [...this.known.keys()]) {
      if (now.has(name)) continue;
      this.known.delete(name);
      this.listener.notify('destination.resumed', { destination: name });
    }
    for (const r of rows)
      this.announceOne({ destination: r.name, reason: r.pausedReason ?? '', until: r.pausedUntil });
  }

  private announceOne(info: DestinationPauseInfo): void {
    const key = `${info.reason}\n${info.until?.toISOString() ?? ''}`;
    if (this.known.get(info.destination) === key) return;
    this.known.set(info.destination, key);
    this.listener.notify('destination.paused', info);
  }
}
