/**
 * Where the relay gets time from. Inject a fake one in tests so backoff and leases are exact.
 *
 * @example
 * const clock: Clock = { now: () => new Date('2030-01-01T00:00:00Z') };
 */
export interface Clock {
  now(): Date;
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
}
