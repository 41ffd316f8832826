import type { Clock } from '../foundation/clock.js';
import type { RunSql } from '../foundation/queryable.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import type { OutboxStore } from '../store/index.js';

/** Most rows one park statement moves: short statements, few row locks held at a time. */
export const PARK_BATCH_SIZE = 2_000;
/** Least pause between park passes once a pass found nothing more to park. */
export const PARK_IDLE_INTERVAL_MS = 250;
/** Least pause between sweeps for parked rows left as their key's head (a rare race, old relays). */
export const UNPARK_SWEEP_INTERVAL_MS = 5_000;

/**
 * When the relay parks followers of blocked ordering keys (see `OutboxStore.park`). A claim that
 * came back short has walked every due row, including the followers of keys whose head is in
 * flight or waiting on backoff: parking them takes them out of the claim index, so the next
 * claims cost what the ready keys cost, however long a blocked key's backlog grows. A pass parks
 * batch after batch while they come back full, so a backlog added at once is parked before the
 * next claim walks it again; passes that find nothing are spaced out.
 *
 * @example
 * const parking = new FollowerParking(store, run);
 * if (rows.length < limit) await parking.afterShortClaim();
 */
export class FollowerParking {
  private nextPassAt = Number.NEGATIVE_INFINITY;
  private nextSweepAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: OutboxStore,
    private readonly run: RunSql,
    private readonly clock?: Clock,
  ) {}

  /** Runs a park pass (and, now and then, the sweep) unless one ran moments ago; returns rows parked. */
  async afterShortClaim(): Promise<number> {
    const started = performance.now();
    if (started >= this.nextSweepAt) {
      this.nextSweepAt = started + UNPARK_SWEEP_INTERVAL_MS;
      await this.store.unparkHeads(this.run);
    }
    if (started < this.nextPassAt) return 0;
    const parked = await repeatUntilShort(PARK_BATCH_SIZE, () =>
      this.store.park(this.run, { ...(this.clock ? { clock: this.clock } : {}), limit: PARK_BATCH_SIZE }),
    );
    this.nextPassAt = performance.now() + PARK_IDLE_INTERVAL_MS;
    return parked;
  }
}
