import { EventEmitter } from 'node:events';
import { describeError, type OutboxError } from '../foundation/errors.js';
import type { Logger } from '../foundation/logger.js';
import type { OutboxMessage } from '../foundation/message.js';
import type { DeadReason } from '../store/dead-reason.js';

/** What a `destination.paused` event says (docs/destinations.md). */
export interface DestinationPauseInfo {
  destination: string;
  /** `gone` (the receiver answered 410 Gone), or the words given to `pauseDestination`. */
  reason: string;
  /** When the pause ends by itself; null: until resumed. */
  until: Date | null;
  /** The message whose 410 paused it, when this relay saw that answer itself. */
  message?: OutboxMessage;
}

/** Details given with each relay event. */
export interface DeliveredInfo {
  durationMs: number;
  result: unknown;
}

/**
 * The relay's events, emitted after the database accepted what they report. `error` reports
 * loop errors (database down...); the relay keeps running.
 */
export interface RelayEvents {
  delivered: [message: OutboxMessage, info: DeliveredInfo];
  failed: [message: OutboxMessage, error: unknown, info: { retryAt: Date; durationMs: number }];
  /** `reason` is the words (`last_error`); `info.deadReason` the stored code (`max_attempts`...). */
  dead: [message: OutboxMessage, reason: string, info: { deadReason: DeadReason }];
  /** The row's message_id was delivered before: the row was removed, not delivered again. */
  duplicate: [message: OutboxMessage];
  claimed: [count: number, info: { durationMs: number }];
  error: [error: unknown];
  /** The relay stopped itself (see `Relay.fault`) and has finished or released what it held. */
  fault: [error: OutboxError];
  /**
   * A destination is paused for every relay (by an operator, or by a 410 Gone answer): seen by
   * this relay within about a second of any process pausing it, and at its first look.
   */
  'destination.paused': [info: DestinationPauseInfo];
  /** A destination this relay saw paused flows again (resumed, or its pause time passed). */
  'destination.resumed': [info: { destination: string }];
  /**
   * A destination's circuit breaker is open for every relay (it failed transiently at a high
   * rate): its messages wait and one probe is sent per probe interval. Seen like a pause.
   */
  'destination.opened': [info: { destination: string; probeAt: Date | null }];
  /** A destination this relay saw open is closed again (a probe got through, or resumed). */
  'destination.closed': [info: { destination: string }];
}

/** How often a listener that keeps throwing is logged again, per event name. */
const LISTENER_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * An EventEmitter whose `notify` calls each listener in isolation: a listener that throws (or
 * whose promise rejects) is the user's bug, so it is logged at error with the event name and
 * counted, and never reaches the relay's state, retries or the process. Without listeners,
 * `error` is dropped instead of thrown (the relay logs it anyway).
 *
 * @example
 * class Relay extends RelayEventEmitter {}
 * relay.notify('delivered', message, { durationMs: 3, result: undefined });
 */
export class RelayEventEmitter extends EventEmitter {
  /** Listener calls that threw or rejected. */
  listenerErrors = 0;
  protected listenerLogger: Logger | undefined;
  readonly #lastLogged = new Map<string, { at: number; suppressed: number }>();

  /** Calls every listener of `event`; a throwing one never affects the others or the caller. */
  notify<E extends keyof RelayEvents>(event: E, ...args: RelayEvents[E]): void {
    if (this.listenerCount(event) === 0) return;
    for (const listener of this.rawListeners(event)) {
      try {
        const returned: unknown = listener.apply(this, args);
        if (returned instanceof Promise)
          returned.catch((error: unknown) => this.#listenerFailed(event, error));
      } catch (error) {
        this.#listenerFailed(event, error);
      }
    }
  }

  #listenerFailed(event: string, error: unknown): void {
    this.listenerErrors++;
    const now = performance.now();
    const last = this.#lastLogged.get(event);
    if (last && now - last.at < LISTENER_ERROR_LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.#lastLogged.set(event, { at: now, suppressed: 0 });
    this.listenerLogger?.error(
      {
        event,
        err: describeError(error),
        ...(last?.suppressed ? { suppressedSinceLastLog: last.suppressed } : {}),
      },
      `a "${event}" listener threw; the relay carries on (fix the listener)`,
    );
  }
}
