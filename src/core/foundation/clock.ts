/**
 * Where the library gets time from: the one seam for it. Production leaves it unset, and then
 * every stored or compared time is the database's now() (hosts drift; see
 * store/database-time.ts) and local durations use the wall clock. Tests inject a fake one so
 * backoff, leases and cron are exact.
 *
 * @example
 * const clock: Clock = { now: () => new Date('2030-01-01T00:00:00Z') };
 */
export interface Clock {
  now(): Date;
  /**
   * Waits `ms` (retry pauses of the library). Optional: without it the wall clock's timer
   * waits; a test clock may resolve at once or advance itself.
   */
  sleep?(ms: number): Promise<void>;
}

/**
 * The wall clock.
 *
 * @example
 * createRelay({ db, publishers, clock: new SystemClock() });
 */
export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** The wall clock, shared: what the library uses where no clock is given. */
export const SYSTEM_CLOCK: Clock = new SystemClock();

/**
 * Milliseconds since the epoch by `clock`, or by the wall clock when none is given.
 *
 * @example
 * const deadline = epochMs(options.clock) + 5_000;
 */
export function epochMs(clock: Clock | undefined): number {
  return clock ? clock.now().getTime() : Date.now();
}

/**
 * Waits `ms` on `clock` (its `sleep`, else the wall clock's timer).
 *
 * @example
 * await sleep(options.clock, 100);
 */
export function sleep(clock: Clock | undefined, ms: number): Promise<void> {
  return (clock?.sleep ? clock : SYSTEM_CLOCK).sleep!(ms);
}
