/**
 * One timer for the deadlines of every entry of a set, instead of a setTimeout and a
 * clearTimeout per entry (their insert and unlink showed in the relay's drain profile,
 * bench/notes). Every entry has the same timeout, so deadlines come in the order entries are
 * added, which is the set's order: the first entry is always the next to expire. The timer is
 * armed for that one; when it fires, it hands every entry past its deadline to `expire` and
 * re-arms for the next. In a steady flow it fires about once per timeout.
 *
 * The set is the caller's (the relay's running attempts, the webhook publisher's requests): an
 * entry leaves it when it ends, or in `expire`. Used for the relay's publish deadlines and the
 * webhook publisher's own request deadline.
 *
 * @example
 * const deadlines = new OrderedDeadlines(active, (job) => job.expire?.());
 * job.deadline = performance.now() + 30_000; active.add(job); deadlines.started(job);
 * // once active is empty: deadlines.close();
 */
export class OrderedDeadlines<T extends { readonly deadline: number }> {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly entries: ReadonlySet<T>,
    private readonly expire: (entry: T) => void,
  ) {}

  /** `entry` (just added to the set, with its deadline) started. */
  started(entry: T): void {
    if (this.timer === undefined) this.arm(entry.deadline - performance.now());
  }

  /** Clears the timer (the set is empty, or its owner stopped): no timer keeps the process alive. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), Math.max(0, Math.ceil(ms)));
  }

  private check(): void {
    this.timer = undefined;
    const now = performance.now();
    const expired: T[] = [];
    for (const entry of this.entries) {
      if (entry.deadline > now) {
        this.arm(entry.deadline - now);
        break;
      }
      expired.push(entry);
    }
    // After the walk: an expiry may change the set (the relay finishes the attempt and starts
    // the next at once).
    for (const entry of expired) this.expire(entry);
    if (this.timer === undefined && expired.length > 0) {
      const next = this.entries.values().next();
      if (!next.done) this.arm(next.value.deadline - performance.now());
    }
  }
}
