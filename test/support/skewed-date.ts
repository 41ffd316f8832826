/**
 * Preload (`node --import tsx --import ./test/support/skewed-date.ts ...`) that makes this
 * process's wall clock wrong by CLOCK_SKEW_MS, like a host whose NTP is off: `Date.now()` and
 * `new Date()` are shifted; dates built from a value are not.
 */
const skewMs = Number(process.env.CLOCK_SKEW_MS ?? 0);
const RealDate = Date;

class SkewedDate extends RealDate {
  constructor(...args: [] | [string | number | Date]) {
    if (args.length === 0) super(RealDate.now() + skewMs);
    else super(args[0]);
  }

  static override now(): number {
    return RealDate.now() + skewMs;
  }
}

Object.defineProperty(globalThis, 'Date', { value: SkewedDate, writable: true, configurable: true });
