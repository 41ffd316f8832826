import type { OutboxError } from '../foundation/errors.js';
import type { RelayEvents } from './relay-events.js';

/** Counts from one `runOnce()`. */
export interface RoundResult {
  /** Leased for publishing (rows dead-lettered by the claim are counted in `dead`). */
  claimed: number;
  delivered: number;
  /** Failed and scheduled for another attempt. */
  retried: number;
  dead: number;
}

/** Running totals since the relay was created. */
export interface RelayCounters extends RoundResult {
  claimBatches: number;
  /**
   * Rows removed as duplicates: their message_id was delivered before (it is in the archive),
   * e.g. re-added by a producer older than storage v2. Never sent again.
   */
  duplicates: number;
  /** Database errors (claims, write-backs, releases). */
  errors: number;
  /** Event listener calls that threw: the user's bug, logged, never retried. */
  listenerErrors: number;
}

/** The relay: claims due messages and delivers them through publishers. */
export interface Relay {
  readonly workerId: string;
  /** Starts the continuous loop. Returns at once. */
  start(): void;
  /** Stops claiming, finishes or releases in-flight messages within the deadline, flushes results. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Claims and delivers one batch, writes back the results, and returns the counts. */
  runOnce(): Promise<RoundResult>;
  /** Claims now instead of waiting for the next poll (same-process wake-up after a commit). */
  wake(): void;
  readonly running: boolean;
  /**
   * Set when the relay stopped itself because the schema's migration version is not the one it
   * was built for: code `SCHEMA_TOO_OLD` (run migrate first) or `SCHEMA_TOO_NEW` (a later
   * release migrated it; this relay must be replaced). A `fault` event follows its stop.
   */
  readonly fault: OutboxError | undefined;
  counters(): RelayCounters;
  on<E extends keyof RelayEvents>(event: E, listener: (...args: RelayEvents[E]) => void): this;
  off<E extends keyof RelayEvents>(event: E, listener: (...args: RelayEvents[E]) => void): this;
  once<E extends keyof RelayEvents>(event: E, listener: (...args: RelayEvents[E]) => void): this;
}
