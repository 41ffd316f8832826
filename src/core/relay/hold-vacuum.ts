import type { Logger } from '../foundation/logger.js';
import { describeError } from '../foundation/errors.js';
import type { RunSql } from '../foundation/queryable.js';
import type { OutboxStore } from '../store/index.js';

/** Rows moved out of the claim's due range (held, throttled, parked) after which the relay vacuums. */
export const VACUUM_AFTER_MOVED_ROWS = 10_000;

/**
 * Vacuums `messages` once this relay's passes have moved many rows out of the claim's due range.
 * Those passes are: holding a paused or open destination's rows, throttling a limited one's, and
 * parking a blocked key's followers.
 *
 * Each such update changes an indexed column, so it is not HOT: the row's old entry stays in
 * messages_claim_idx, inside the due range the claim walks. Every claim then steps over those dead
 * entries until a vacuum removes them. Autovacuum gets there too, but only after its threshold
 * and naptime.
 *
 * Measured with `bench/blocked-key.ts 50000 4000 100 paused 4` (5 runs each, quiet box). Next
 * to 50,000 rows held for a paused destination, the other keys' claim took this much of its
 * time without them:
 * - 1.0-2.2x without this vacuum, median 1.4x;
 * - 1.0-1.7x with it, median 1.0x.
 * An `analyze` along with it measured worse (1.5-2.2x), so it is left to autovacuum.
 *
 * It runs one at a time, never awaited by the claim loop, and does not block reads or writes.
 * It is not `skip_locked`: an autovacuum already on the table is throttled by its cost delay,
 * and yields its lock to this one within `deadlock_timeout`. A relay whose role may not vacuum
 * the table gets a warning from PostgreSQL and nothing else.
 *
 * @example
 * const vacuum = new HoldVacuum(store, run, logger);
 * vacuum.moved(await store.park(run, { limit: 2000 }));
 */
export class HoldVacuum {
  private count = 0;
  private running = false;

  constructor(
    private readonly store: OutboxStore,
    private readonly run: RunSql,
    private readonly logger: Logger,
  ) {}

  /** Rows a pass just moved out of the due range; starts a vacuum once enough have. */
  readonly moved = (rows: number): void => {
    this.count += rows;
    if (this.count < VACUUM_AFTER_MOVED_ROWS || this.running) return;
    this.count = 0;
    this.running = true;
    const started = performance.now();
    this.store
      .vacuum(this.run)
      .then(() =>
        this.logger.debug({ ms: Math.round(performance.now() - started) }, 'vacuumed after hold passes'),
      )
      .catch((error: unknown) =>
        this.logger.warn({ err: describeError(error) }, 'vacuum after a hold pass failed'),
      )
      .finally(() => {
        this.running = false;
      });
  };
}
