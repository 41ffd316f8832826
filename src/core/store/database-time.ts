import type { Clock } from '../foundation/clock.js';

/**
 * Time in the outbox is the database's. Every statement that stores or compares a time takes
 * one `now` parameter: null (production) means PostgreSQL's `now()`, so relays on hosts whose
 * clocks drift still agree on leases and due times; a Date (a test's injected clock) replaces it.
 *
 * @example
 * `update t set delivered_at = ${nowSql('$3')} ...` // coalesce($3::timestamptz, now())
 */
export function nowSql(param: string): string {
  return `coalesce(${param}::timestamptz, now())`;
}

/**
 * "Due by now": a row is due when `available_at` is at or before the database's now. An
 * injected clock has millisecond precision and `now()` microseconds: a row added during the
 * clock's current millisecond counts as due, as it would have under `now()`.
 *
 * @example
 * `where m.available_at <= ${dueBySql('$1')}`
 */
export function dueBySql(param: string): string {
  return `coalesce(${param}::timestamptz + interval '999 microseconds', now())`;
}

/**
 * The `now` parameter for a statement: the injected clock's time (tests), or null for the
 * database's now() (production).
 *
 * @example
 * nowParam(undefined) // null: the database's now()
 */
export function nowParam(clock: Clock | undefined): Date | null {
  return clock ? clock.now() : null;
}
