/**
 * Callers waiting for the relay to have nothing queued or publishing (`runOnce`, `stop`, and
 * several of them at once). The relay calls `settle()` when it goes idle.
 *
 * @example
 * const idle = new IdleWaiters();
 * const settled = await idle.wait(5_000, () => queue.length === 0 && active.size === 0);
 */
export class IdleWaiters {
  private readonly waiters = new Set<() => void>();

  /** Resolves true once idle (at once when `isIdle()`), false when `timeoutMs` passed first. */
  async wait(timeoutMs: number, isIdle: () => boolean): Promise<boolean> {
    if (isIdle()) return true;
    let timer: NodeJS.Timeout | undefined;
    let waiter: (() => void) | undefined;
    const settled = await Promise.race([
      new Promise<true>((resolve) => {
        waiter = () => resolve(true);
        this.waiters.add(waiter);
      }),
      ...(Number.isFinite(timeoutMs)
        ? [new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]
        : []),
    ]);
    clearTimeout(timer);
    if (waiter) this.waiters.delete(waiter);
    return settled;
  }

  /** Wakes every waiter: the relay is idle now. */
  settle(): void {
    for (const waiter of [...this.waiters]) waiter();
    this.waiters.clear();
  }
}
