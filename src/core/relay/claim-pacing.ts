/** How long after the last claim that found messages the relay keeps polling at the busy interval. */
export const BUSY_WINDOW_MS = 200;
/**
 * A wake-up from `onAdded` arrives before the producer's COMMIT, so the claim it triggers may
 * not see the row yet. A woken claim that finds nothing looks again after these pauses.
 */
export const WAKE_RECHECK_MS = [1, 1, 2, 2, 4, 10] as const;

/**
 * How much a relay claims: enough to keep its publishers busy, never more than it can start
 * within its leases. A claimed message waiting in the queue while its lease runs out would be
 * claimed again by another relay and sent twice.
 *
 * @example
 * const pacing = new ClaimPacing({ batchSize: 500, concurrency: 32, leaseMs: 60_000 });
 * pacing.record(12); const want = pacing.claimRoom(held);
 */
export class ClaimPacing {
  /** Moving average of publish durations (ms); undefined until the first outcome. */
  private avgPublishMs: number | undefined;

  constructor(private readonly options: { batchSize: number; concurrency: number; leaseMs: number }) {}

  /** Feeds one publish duration into the pace. */
  record(durationMs: number): void {
    this.avgPublishMs =
      this.avgPublishMs === undefined
        ? durationMs
        : this.avgPublishMs + 0.05 * (durationMs - this.avgPublishMs);
  }

  /**
   * How many rows the next claim should ask for, given how many the relay holds (queued or
   * publishing): 0 while it holds a batch or more, else as much as its hold cap allows.
   */
  claimRoom(held: number): number {
    const cap = this.holdCap();
    const { batchSize } = this.options;
    return held < Math.min(batchSize, cap) ? Math.min(batchSize, cap - held) : 0;
  }

  /**
   * How many messages the relay may hold. Up to two batches, so the next one is claimed while
   * the current one publishes, but never more than it can start within half a lease at the pace
   * publishes take. Never below the concurrency (those start at once).
   */
  holdCap(): number {
    const { batchSize, concurrency, leaseMs } = this.options;
    // Pace unknown yet: two rounds of the concurrency, so a slow publisher's first claim
    // cannot outlast its lease; the first outcomes set the real budget.
    if (this.avgPublishMs === undefined) return Math.min(batchSize, 2 * concurrency);
    const budget = Math.floor(((leaseMs / 2) * concurrency) / Math.max(this.avgPublishMs, 0.001));
    return Math.max(Math.min(concurrency, batchSize), Math.min(2 * batchSize, budget));
  }
}
