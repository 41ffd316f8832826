import type { Clock } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';
import type { OutboxMessage } from '../foundation/message.js';
import type { Queryable, RunSql } from '../foundation/queryable.js';
import { DestinationStore, type DeadReason, type OutboxStore } from '../store/index.js';
import type { ResolvedBreakerOptions } from './breaker-options.js';
import { DestinationBreakers } from './destination-breakers.js';
import { DestinationPauses, type PauseListener } from './destination-pauses.js';
import { OpsEvents } from './ops-events.js';
import type { Job, Outcome } from './publish-attempt.js';
import type { Written } from './write-back.js';

/** What a relay's destination flow control needs from it. */
export interface DestinationFlowOptions {
  db: Queryable;
  schema: string;
  store: OutboxStore;
  run: RunSql;
  workerId: string;
  leaseMs: number;
  maxAttempts: number | undefined;
  clock: Clock | undefined;
  logger: Logger;
  breaker: ResolvedBreakerOptions;
  opsEventsDestination: string | undefined;
  /** The relay's events. */
  listener: PauseListener;
  serves: (destination: string) => boolean;
  /** The relay's claimed jobs not started yet: a destination whose breaker opens gives its own back. */
  queue: Job[];
  /** Gives a claimed job back with its attempt. */
  release: (job: Job) => void;
  /** A probe's claim dead-lettered its row (lease expired on its last attempt). */
  claimDead: (message: OutboxMessage, reason: string) => void;
  report: (error: unknown, msg: string) => void;
}

/**
 * A relay's destination flow control, in one place (docs/destinations.md): pauses, circuit
 * breakers and the ops events about them. Before each claim `look()` reads the paused and open
 * destinations (at most every 500 ms), holds their new rows, and returns the probe jobs this
 * relay took; each finished attempt goes through `finished()`.
 *
 * @example
 * const flow = new DestinationFlow({ ...options, listener: relay });
 * const probes = await flow.look(); // then claim
 */
export class DestinationFlow {
  private readonly pauses: DestinationPauses;
  private readonly breakers: DestinationBreakers;
  private readonly ops: OpsEvents | undefined;

  constructor(o: DestinationFlowOptions) {
    const destinations = new DestinationStore(o.schema);
    const shed = (name: string) => {
      const [gone, keep] = splitQueue(o.queue, name);
      o.queue.splice(0, o.queue.length, ...keep);
      for (const job of gone) o.release(job);
    };
    this.pauses = new DestinationPauses(destinations, o.run, o.clock, o.listener, shed);
    this.ops = o.opsEventsDestination
      ? new OpsEvents(o.db, o.schema, o.opsEventsDestination, o.report, o.logger)
      : undefined;
    this.breakers = new DestinationBreakers({ ...o, destinations, ops: this.ops, shed });
  }

  /** Looks at pauses and breakers (unless it did moments ago); returns the probes to publish. */
  async look(): Promise<Job[]> {
    await this.pauses.look();
    const blocked = this.pauses.fresh();
    return blocked && blocked.length > 0 ? this.breakers.probe(blocked) : [];
  }

  /** A finished attempt, before its write-back: the breaker's window, or its probe's verdict. */
  finished(job: Job, outcome: Outcome): void {
    this.breakers.finished(job, outcome);
  }

  /** A write-back of this relay paused a destination (its receiver answered 410 Gone). */
  paused(w: Extract<Written, { kind: 'paused' }>): void {
    this.pauses.written(w);
  }

  /** This relay dead-lettered a message. */
  dead(message: OutboxMessage, reason: string, deadReason: DeadReason): void {
    this.ops?.dead(message, reason, deadReason);
  }
}

/**
 * Splits a relay's queue of claimed jobs into those of `destination` (not probes: a probe is
 * meant to go out) and the rest, in order: a batch claimed just before its breaker opened would
 * otherwise all go out into the outage.
 *
 * @example
 * const [shed, keep] = splitQueue(queue, 'webhook:acme');
 */
export function splitQueue(queue: readonly Job[], destination: string): [Job[], Job[]] {
  const shed: Job[] = [];
  const keep: Job[] = [];
  for (const j of queue) (!j.probe && j.message.destination === destination ? shed : keep).push(j);
  return [shed, keep];
}
