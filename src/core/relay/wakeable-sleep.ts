/**
 * The relay loop's pause: a timer that `nudge()` ends early. A nudge that arrives while the
 * loop is busy (not sleeping) makes the next sleep return at once, so no wake-up is lost.
 *
 * @example
 * const pause = new WakeableSleep();
 * setTimeout(() => pause.nudge(), 5);
 * await pause.sleep(60_000); // returns after about 5 ms
 */
export class WakeableSleep {
  private wakeUp: (() => void) | undefined;
  private woken = false;

  /** Ends the current sleep, or the next one if none is running. */
  nudge(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Waits `ms`, or less if nudged. */
  async sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
    this.woken = false;
  }
}
