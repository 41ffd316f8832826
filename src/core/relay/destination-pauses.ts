import type { Clock } from '../foundation/clock.js';
import type { RunSql } from '../foundation/queryable.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import type { DestinationRow, DestinationStore } from '../store/index.js';
import type { DestinationPauseInfo } from './relay-events.js';
import type { Written } from './write-back.js';

/** Most rows one hold statement moves (the same bound as parking). */
export const HOLD_BATCH_SIZE = 2_000;
/** Least pause between looks at the paused and open destinations (hold passes, probes). */
export const PAUSE_CHECK_INTERVAL_MS = 500;

/** Where pauses are announced: the relay's events. */
export interface PauseListener {
  notify(event: 'destination.paused', info: DestinationPauseInfo): void;
  notify(event: 'destination.resumed', info: { destination: string }): void;
  notify(event: 'destination.opened', info: { destination: string; probeAt: Date | null }): void;
  notify(event: 'destination.closed', info: { destination: string }): void;
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
  /** Destinations whose breaker was last seen open. */
  private readonly open = new Set<string>();
  private nextPassAt = Number.NEGATIVE_INFINITY;
  /** What the last look read, until `fresh()` takes it (the breakers' probes). */
  private lastRead: DestinationRow[] | undefined;

  constructor(
    private readonly store: DestinationStore,
    private readonly run: RunSql,
    private readonly clock: Clock | undefined,
    private readonly listener: PauseListener,
    /** A breaker opened (seen here first when another relay opened it). */
    private readonly onOpened: (destination: string) => void = () => undefined,
  ) {}

  /** Looks at the pauses and holds new rows of paused destinations, unless it did moments ago; returns rows held. */
  async look(): Promise<number> {
    const started = performance.now();
    if (started < this.nextPassAt) return 0;
    this.nextPassAt = started + PAUSE_CHECK_INTERVAL_MS;
    const clock = this.clock ? { clock: this.clock } : {};
    const blocked = await this.store.list(this.run, { ...clock, blockedOnly: true });
    this.lastRead = blocked;
    this.announce(blocked.filter((r) => r.paused));
    this.announceBreakers(blocked);
    if (blocked.length === 0) return 0;
    return repeatUntilShort(HOLD_BATCH_SIZE, () =>
      this.store.holdPaused(this.run, { ...clock, limit: HOLD_BATCH_SIZE }),
    );
  }

  /** The paused and open destinations the last look read, once per look (undefined: no look since). */
  fresh(): DestinationRow[] | undefined {
    const rows = this.lastRead;
    this.lastRead = undefined;
    return rows;
  }

  private announceBreakers(rows: readonly DestinationRow[]): void {
    const now = new Set(rows.filter((r) => r.breaker !== 'closed').map((r) => r.name));
    for (const name of [...this.open]) {
      if (now.has(name)) continue;
      this.open.delete(name);
      this.listener.notify('destination.closed', { destination: name });
    }
    for (const r of rows) {
      if (r.breaker === 'closed' || this.open.has(r.name)) continue;
      this.open.add(r.name);
      this.onOpened(r.name);
      this.listener.notify('destination.opened', { destination: r.name, probeAt: r.probeAt });
    }
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
