import type { Job } from './publish-attempt.js';

/**
 * One timer for the publish deadlines of every running attempt, instead of a setTimeout and a
 * clearTimeout per publish (their insert and unlink showed in the drain profile, bench/notes).
 * Every attempt of a relay has the same timeout, so deadlines come in the order attempts start,
 * which is the order of the relay's `active` set: the first entry is always the next to expire.
 * The timer is armed for that one; when it fires, it cuts off every attempt past its deadline
 * and re-arms for the next. In a steady flow it fires about once per timeout.
 *
 * @example
 * const deadlines = new PublishDeadlines(active);
 * job.deadline = performance.now() + 30_000; active.add(job); deadlines.started(job);
 */
export class PublishDeadlines {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly active: ReadonlySet<Job>) {}

  /** `job` (just added to the active set, with its deadline) started publishing. */
  started(job: Job): void {
    if (this.timer === undefined) this.arm(job.deadline - performance.now());
  }

  /** Clears the timer (a stopped relay); attempts still running keep their own abort paths. */
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
    const expired: Job[] = [];
    for (const job of this.active) {
      if (job.deadline > now) {
        this.arm(job.deadline - now);
        break;
      }
      expired.push(job);
    }
    // After the walk: an expiry finishes its attempt, and the relay starts the next at once.
    for (const job of expired) job.expire?.();
    if (this.timer === undefined && expired.length > 0) {
      const next = this.active.values().next();
      if (!next.done) this.arm(next.value.deadline - performance.now());
    }
  }
}
