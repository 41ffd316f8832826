import { EventEmitter } from 'node:events';
import { OrderedDeadlines } from '../../core/foundation/ordered-deadlines.js';

/**
 * One request's cancel switch, handed to undici as its `signal`: undici takes an EventEmitter as
 * well as an AbortSignal, and an emitter costs a fraction of an AbortController and its
 * EventTarget listeners (about 4 us and 2 us a request in the publisher's profile, #26).
 *
 * @example
 * const cancel = deadlines.start(); // request(url, { signal: cancel, ... })
 */
export class RequestCancel extends EventEmitter {
  /** Read by undici before it sends. */
  aborted = false;
  /** Read by undici when `abort` fires: the request fails with it. */
  reason: unknown;
  /** Cut off by the publisher's own deadline (not by the relay). */
  timedOut = false;

  constructor(readonly deadline: number) {
    super();
  }

  /** Aborts the request (once). */
  cancel(reason: unknown, timedOut = false): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.timedOut = timedOut;
    this.emit('abort');
  }
}

/**
 * The whole-attempt deadline of every request a webhook publisher has in flight, on the one
 * timer of `OrderedDeadlines` (as the relay's publish deadlines) instead of a setTimeout and
 * clearTimeout per request: every request has the same timeout.
 *
 * @example
 * const deadlines = new RequestDeadlines(15_000);
 * const cancel = deadlines.start();
 * try { await request(url, { signal: cancel }); } finally { deadlines.finish(cancel); }
 */
export class RequestDeadlines {
  readonly #active = new Set<RequestCancel>();
  readonly #deadlines = new OrderedDeadlines(this.#active, (cancel) => {
    this.#active.delete(cancel);
    cancel.cancel(new Error(`attempt deadline of ${this.timeoutMs} ms passed`), true);
  });

  constructor(private readonly timeoutMs: number) {}

  /** A cancel switch for a request starting now, cut off `timeoutMs` from now. */
  start(): RequestCancel {
    const cancel = new RequestCancel(performance.now() + this.timeoutMs);
    this.#active.add(cancel);
    this.#deadlines.started(cancel);
    return cancel;
  }

  /** The request ended (any way): its deadline no longer matters. */
  finish(cancel: RequestCancel): void {
    this.#active.delete(cancel);
    if (this.#active.size === 0) this.#deadlines.close();
  }
}
