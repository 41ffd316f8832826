/** Buckets a window is cut into: memory and work per outcome stay constant under any load. */
const BUCKETS = 10;

interface Bucket {
  /** Start of the bucket (performance.now() ms). */
  at: number;
  attempts: number;
  failures: number;
  /** A message whose attempt failed in this bucket, and whether another one did too. */
  failedId: string | undefined;
  manyFailed: boolean;
}

/**
 * One relay's sliding window of attempt outcomes for one destination: the breaker's opening
 * rule (at least `minAttempts` attempts in `windowMs`, at least `failureRatio` of them transient
 * failures, from more than one message, or unreachable). The "more than one message" clause is
 * what keeps one failing key (a poison message) from opening its destination when the healthy
 * keys are quiet: a key sends only its head, the same message again and again. A receiver that
 * cannot be reached at all is down whatever the message: a router's commands are one key.
 *
 * @example
 * const w = new BreakerWindow(30_000);
 * w.record('42', true, performance.now()); w.trips(10, 0.9, performance.now()) // false
 */
export class BreakerWindow {
  private readonly buckets: Bucket[] = [];
  private readonly width: number;

  constructor(private readonly windowMs: number) {
    this.width = windowMs / BUCKETS;
  }

  /**
   * Records one attempt: `failed` when it failed transiently; `unreachable` when the receiver
   * could not be reached at all (that says the destination is down even from one message).
   */
  record(messageId: string, failed: boolean, nowMs: number, unreachable = false): void {
    let b = this.buckets.at(-1);
    if (!b || nowMs - b.at >= this.width) {
      b = { at: nowMs, attempts: 0, failures: 0, failedId: undefined, manyFailed: false };
      this.buckets.push(b);
      while (this.buckets.length > BUCKETS + 1) this.buckets.shift();
    }
    b.attempts++;
    if (!failed) return;
    b.failures++;
    if (unreachable) b.manyFailed = true;
    else if (b.failedId === undefined) b.failedId = messageId;
    else if (b.failedId !== messageId) b.manyFailed = true;
  }

  /** Whether the window meets the opening rule now. */
  trips(minAttempts: number, failureRatio: number, nowMs: number): boolean {
    let attempts = 0;
    let failures = 0;
    let firstId: string | undefined;
    let many = false;
    for (const b of this.buckets) {
      if (nowMs - b.at > this.windowMs) continue;
      attempts += b.attempts;
      failures += b.failures;
      many ||= b.manyFailed;
      if (b.failedId !== undefined) {
        if (firstId === undefined) firstId = b.failedId;
        else if (firstId !== b.failedId) many = true;
      }
    }
    return attempts >= minAttempts && failures >= failureRatio * attempts && many;
  }

  /** Forgets everything (after the breaker opened or closed: a new period starts). */
  clear(): void {
    this.buckets.length = 0;
  }
}
