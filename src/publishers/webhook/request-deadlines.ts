import { EventEmitter } from 'node:events';

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
 * The whole-attempt deadline of every request a webhook publisher has in flight, on one timer
 * instead of a setTimeout and clearTimeout per request. Every request has the same timeout, so
 * deadlines come in the order requests start, which is the order of the set: the timer is armed
 * for the first and, when it fires, cuts off every request past its deadline and re-arms for the
 * next (the relay's PublishDeadlines does the same for attempts).
 *
 * @example
 * const deadlines = new RequestDeadlines(15_000);
 * const cancel = deadlines.start();
 * try { await request(url, { signal: cancel }); } finally { deadlines.finish(cancel); }
 */
export class RequestDeadlines {
  readonly #active = new Set<RequestCancel>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** A cancel switch for a request starting now, cut off `timeoutMs` from now. */
  start(): RequestCancel {
    const cancel = new RequestCancel(performance.now() + this.timeoutMs);
    this.#active.add(cancel);
    if (this.#timer === undefined) this.#arm(this.timeoutMs);
    return cancel;
  }

  /** The request ended (any way): its deadline no longer matters. */
  finish(cancel: RequestCancel): void {
    this.#active.delete(cancel);
    if (this.#active.size === 0 && this.#timer !== undefined) {
      // Nothing in flight: no timer keeps the process alive.
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), Math.max(0, Math.ceil(ms)));
  }

  #check(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const cancel of this.#active) {
      if (cancel.deadline > now) {
        this.#arm(cancel.deadline - now);
        return;
      }
      this.#active.delete(cancel);
      cancel.cancel(new Error(`attempt deadline of ${this.timeoutMs} ms passed`), true);
    }
  }
}
