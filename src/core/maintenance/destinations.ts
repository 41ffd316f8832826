import type { Clock } from '../foundation/clock.js';
import { OutboxError, OutboxValidationError } from '../foundation/errors.js';
import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import { type DestinationRow, DestinationStore } from '../store/index.js';
import { type DestinationPolicyStatus, withLimits } from './destination-limits.js';

/**
 * A destination's flow-control state, as `listDestinations` returns it; `limit` is the rate limit
 * or concurrency cap whose pattern is this name (docs/destinations.md), null when none.
 */
export type DestinationStatus = DestinationRow & { limit: DestinationPolicyStatus | null };

/** Rows held or released per statement, so no statement locks a whole backlog at once. */
const DESTINATION_BATCH_SIZE = 5000;
/** Longest pause reason kept (it is shown on the status page and in events). */
export const MAX_PAUSE_REASON_CHARS = 500;
/** The reason stored when the caller gives none. */
export const DEFAULT_PAUSE_REASON = 'paused by an operator';

/** Options shared by the destination functions. */
export interface DestinationOptions {
  schema?: string;
  /** A test's clock; omitted: the database's now(). */
  clock?: Clock;
}

function requireDestination(destination: unknown): string {
  if (typeof destination !== 'string' || destination === '' || destination.length > 500)
    throw new OutboxValidationError(
      'destination',
      `must be a destination name, got ${JSON.stringify(destination)}`,
    );
  return destination;
}

function context(options: DestinationOptions) {
  return {
    store: new DestinationStore(options.schema ?? DEFAULT_SCHEMA),
    clock: options.clock ? { clock: options.clock } : {},
  };
}

/**
 * Pauses a destination for every relay sharing the table: nothing more is sent to it, every
 * message is kept, and its waiting messages are held out of the claims' way. With `until` the
 * pause ends by itself at that time (the held messages are then due); without, it lasts until
 * `resumeDestination`. Pausing a paused destination replaces its until and reason. A message
 * already in flight finishes its attempt.
 *
 * @example
 * await pauseDestination(db, 'webhook:acme', { reason: 'receiver maintenance', until: new Date(Date.now() + 3_600_000) });
 */
export async function pauseDestination(
  db: Queryable,
  destination: string,
  options: DestinationOptions & { until?: Date; reason?: string } = {},
): Promise<{ destination: string; held: number; until: Date | null }> {
  const name = requireDestination(destination);
  const reason = options.reason ?? DEFAULT_PAUSE_REASON;
  if (typeof reason !== 'string' || reason === '' || reason.length > MAX_PAUSE_REASON_CHARS)
    throw new OutboxValidationError('reason', `must be text of 1..${MAX_PAUSE_REASON_CHARS} characters`);
  const until = options.until;
  if (until !== undefined) {
    const now = options.clock?.now() ?? new Date();
    if (!(until instanceof Date) || Number.isNaN(until.getTime()) || until <= now)
      throw new OutboxValidationError('until', `must be a time in the future, got ${String(until)}`);
  }
  const { store, clock } = context(options);
  const run = sqlRunner(db);
  const pause = await store.pause(run, { ...clock, name, until: until ?? null, reason });
  const held = await repeatUntilShort(DESTINATION_BATCH_SIZE, () =>
    store.hold(run, { ...clock, name, ...pause, limit: DESTINATION_BATCH_SIZE }),
  );
  return { destination: name, held, until: until ?? null };
}

/**
 * Ends a destination's pause (an operator's, or the one a 410 Gone answer set) and closes its
 * open circuit breaker, for the whole fleet, and makes its held messages due at once, in their
 * order (after a breaker, those waiting on a retry backoff too: the operator says the receiver
 * is back). `resumed` is false when it was neither paused nor open.
 *
 * @example
 * const { released } = await resumeDestination(db, 'webhook:acme');
 */
export async function resumeDestination(
  db: Queryable,
  destination: string,
  options: DestinationOptions = {},
): Promise<{ destination: string; resumed: boolean; released: number }> {
  const name = requireDestination(destination);
  const { store, clock } = context(options);
  const run = sqlRunner(db);
  const heldAt = await store.resume(run, { ...clock, name });
  const closed = await store.closeBreaker(run, { ...clock, name });
  if (heldAt === undefined && closed === undefined) return { destination: name, resumed: false, released: 0 };
  const release = (at: Date | number | null) =>
    repeatUntilShort(DESTINATION_BATCH_SIZE, () =>
      store.release(run, { ...clock, name, heldAt: at, limit: DESTINATION_BATCH_SIZE }),
    );
  let released = heldAt === undefined ? 0 : await release(heldAt);
  // The breaker held its rows at infinity, and its failures wait on backoffs.
  if (closed && !closed.paused) {
    if (heldAt !== Number.POSITIVE_INFINITY) released += await release(Number.POSITIVE_INFINITY);
    released += await release(null);
  }
  return { destination: name, resumed: true, released };
}

/**
 * "Retry now": makes every message of a (flowing) destination that waits on a retry backoff
 * due at once, without a pause. Messages scheduled for later that were never attempted keep
 * their time. On a destination whose circuit breaker is open it makes the probe due now
 * instead (`probe: true`): one message goes out at once, and when it gets through the breaker
 * closes and everything waiting is due (use `resumeDestination` to close it without a probe).
 * Throws `OutboxError` `DESTINATION_PAUSED` on a paused destination: resume it.
 *
 * @example
 * const { released } = await retryDestinationNow(db, 'webhook:acme');
 */
export async function retryDestinationNow(
  db: Queryable,
  destination: string,
  options: DestinationOptions = {},
): Promise<{ destination: string; released: number; probe: boolean }> {
  const name = requireDestination(destination);
  const { store, clock } = context(options);
  const run = sqlRunner(db);
  const paused = await store.list(run, { ...clock, pausedOnly: true });
  if (paused.some((d) => d.name === name))
    throw new OutboxError(
      'DESTINATION_PAUSED',
      `destination "${name}" is paused: resume it to send its messages`,
    );
  if (await store.probeNow(run, { ...clock, name })) return { destination: name, released: 0, probe: true };
  const released = await repeatUntilShort(DESTINATION_BATCH_SIZE, () =>
    store.release(run, { ...clock, name, heldAt: null, limit: DESTINATION_BATCH_SIZE }),
  );
  return { destination: name, released, probe: false };
}

/**
 * Destinations with flow-control state (every one ever paused or opened, and every limit's
 * pattern), by name; `paused` tells which are paused now, `breaker` which circuit breakers are
 * `open` or `half-open`, `limit` which are limited. Pass `{ pausedOnly: true }` for the paused ones.
 *
 * @example
 * for (const d of await listDestinations(db)) if (d.paused) console.log(d.name, d.pausedReason, d.pausedUntil ?? 'until resumed');
 */
export async function listDestinations(
  db: Queryable,
  options: DestinationOptions & { pausedOnly?: boolean } = {},
): Promise<DestinationStatus[]> {
  const { store, clock } = context(options);
  const rows = await store.list(sqlRunner(db), { ...clock, pausedOnly: options.pausedOnly ?? false });
  return withLimits(db, rows, options);
}
