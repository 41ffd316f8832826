import type { Clock } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';
import type { OutboxMessage } from '../foundation/message.js';
import type { OpsEvents } from './ops-events.js';
import type { RunSql } from '../foundation/queryable.js';
import type { DestinationRow, DestinationStore, OutboxStore } from '../store/index.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import type { ResolvedBreakerOptions } from './breaker-options.js';
import { BreakerWindow } from './breaker-window.js';
import { isUnreachable } from '../foundation/unreachable-error.js';
import { ClaimedMessage } from './claimed-message.js';
import type { Job, Outcome } from './publish-attempt.js';

/** Rows one release statement moves when a breaker closes (as a resume does). */
const CLOSE_BATCH_SIZE = 5_000;

/** What the breakers need from their relay. */
export interface DestinationBreakersOptions {
  breaker: ResolvedBreakerOptions;
  destinations: DestinationStore;
  store: OutboxStore;
  run: RunSql;
  workerId: string;
  leaseMs: number;
  maxAttempts: number | undefined;
  clock: Clock | undefined;
  /** Whether this relay has a publisher for the destination (it probes only those). */
  serves: (destination: string) => boolean;
  logger: Logger;
  /** Where this relay's openings and closings go as ops events, if configured. */
  ops: OpsEvents | undefined;
  /** Gives back the destination's claimed jobs not started yet (it just opened). */
  shed: (destination: string) => void;
  /** A probe's claim dead-lettered its row (its lease had expired on its last attempt). */
  claimDead: (message: OutboxMessage, reason: string) => void;
  /** Logs and counts a database error (the breaker tries again on the next outcome or look). */
  report: (error: unknown, msg: string) => void;
}

/**
 * The relay's side of circuit breakers (docs/destinations.md#circuit-breaker). It keeps a
 * sliding window of its own attempts per destination and opens a destination in the database
 * when the window meets the rule, for every relay at once (the claim skips open destinations,
 * the hold pass holds their rows). For each open destination it serves, it asks for the probe
 * at each look; the one relay that gets it claims one message, and its outcome closes the
 * breaker (any answer of the receiver) or reopens it with the interval doubled.
 *
 * @example
 * const breakers = new DestinationBreakers({ breaker, destinations, store, run, ... });
 * const probes = await breakers.probe(blockedRows); // jobs to publish
 * breakers.finished(job, outcome);
 */
export class DestinationBreakers {
  private readonly windows = new Map<string, BreakerWindow>();
  /** Destinations this relay is opening now (one statement each at a time). */
  private readonly busy = new Set<string>();

  constructor(private readonly o: DestinationBreakersOptions) {}

  /** Feeds a finished attempt to its destination's window, or settles the probe it was. */
  finished(job: Job, outcome: Outcome): void {
    if (outcome.kind === 'released') return; // a probe's lease runs out: another relay probes
    const name = job.message.destination;
    // The receiver answered (delivered, or refused for good: 4xx, 410): it is up.
    const answered = outcome.kind === 'delivered' || outcome.permanent || outcome.gone === true;
    if (job.probe) {
      void this.settleProbe(name, answered);
      return;
    }
    if (!this.o.breaker.enabled || (outcome.kind === 'failed' && outcome.unroutable)) return;
    let w = this.windows.get(name);
    if (!w) {
      w = new BreakerWindow(this.o.breaker.windowMs);
      this.windows.set(name, w);
    }
    const now = performance.now();
    w.record(
      job.message.messageId,
      !answered,
      now,
      outcome.kind === 'failed' && isUnreachable(outcome.error),
    );
    if (!answered && w.trips(this.o.breaker.minAttempts, this.o.breaker.failureRatio, now))
      void this.open(name, w);
  }

  /**
   * Takes the probe of each open destination in `blocked` this relay serves (not paused: a pause
   * wins) and claims its one message; returns the probe jobs, with `leaseEnd` from before the claim.
   */
  async probe(blocked: readonly DestinationRow[]): Promise<Job[]> {
    // Also with the breaker off here: `enabled` is about opening; a destination another relay
    // opened must not stay open because the relay that opened it is gone.
    const jobs: Job[] = [];
    for (const d of blocked) {
      if (d.paused || d.breaker !== 'open' || !this.o.serves(d.name)) continue;
      const clock = this.o.clock ? { clock: this.o.clock } : {};
      const started = performance.now();
      const mine = await this.o.destinations.takeProbe(this.o.run, {
        ...clock,
        name: d.name,
        workerId: this.o.workerId,
        leaseMs: this.o.leaseMs,
      });
      if (!mine) continue;
      const [row] = await this.o.store.claimProbe(this.o.run, {
        ...clock,
        destination: d.name,
        workerId: this.o.workerId,
        leaseMs: this.o.leaseMs,
        ...(this.o.maxAttempts !== undefined ? { maxAttempts: this.o.maxAttempts } : {}),
      });
      if (!row) {
        // Nothing waits: there is nothing to protect, so the destination flows again (a new
        // outage opens it again after minAttempts attempts).
        await this.close(d.name);
      } else if (row.dead_error !== null) {
        // Its lease expired on its last attempt and the claim dead-lettered it: probe again.
        await this.o.destinations.dropProbe(this.o.run, { name: d.name, workerId: this.o.workerId });
        this.o.claimDead(new ClaimedMessage(row), row.dead_error);
      } else {
        jobs.push({
          message: new ClaimedMessage(row),
          leaseEnd: started + this.o.leaseMs,
          started: false,
          deadline: 0,
          probe: true,
        });
      }
    }
    return jobs;
  }

  private async open(name: string, w: BreakerWindow): Promise<void> {
    if (this.busy.has(name)) return;
    this.busy.add(name);
    try {
      const probeMs = this.o.breaker.probeMs;
      const opened = await this.o.destinations.openBreaker(this.o.run, {
        ...(this.o.clock ? { clock: this.o.clock } : {}),
        name,
        probeMs,
      });
      w.clear();
      if (!opened) return;
      this.o.logger.warn(
        { destination: name, probeMs },
        'circuit breaker opened: the destination fails; its messages wait, one probe per interval',
      );
      this.o.shed(name);
      this.o.ops?.opened(name, { probeMs });
    } catch (error) {
      this.o.report(error, `opening the circuit breaker of ${name} failed`);
    } finally {
      this.busy.delete(name);
    }
  }

  private async settleProbe(name: string, answered: boolean): Promise<void> {
    try {
      if (answered) await this.close(name);
      else
        await this.o.destinations.probeFailed(this.o.run, {
          ...(this.o.clock ? { clock: this.o.clock } : {}),
          name,
          workerId: this.o.workerId,
          maxMs: this.o.breaker.probeMaxMs,
        });
    } catch (error) {
      this.o.report(error, `settling the probe of ${name} failed; its probe lease will expire`);
    }
  }

  /** Closes the breaker this relay probes and makes its held rows, and those in backoff, due now. */
  private async close(name: string): Promise<void> {
    const clock = this.o.clock ? { clock: this.o.clock } : {};
    const closed = await this.o.destinations.closeBreaker(this.o.run, {
      ...clock,
      name,
      workerId: this.o.workerId,
    });
    if (!closed) return;
    this.windows.get(name)?.clear();
    let released = 0;
    // A paused destination keeps its rows held until it is resumed.
    if (!closed.paused) {
      for (const heldAt of [Number.POSITIVE_INFINITY, null]) {
        released += await repeatUntilShort(CLOSE_BATCH_SIZE, () =>
          this.o.destinations.release(this.o.run, { ...clock, name, heldAt, limit: CLOSE_BATCH_SIZE }),
        );
      }
    }
    this.o.logger.info({ destination: name, released }, 'circuit breaker closed: the probe got through');
    this.o.ops?.closed(name, { released });
  }
}
