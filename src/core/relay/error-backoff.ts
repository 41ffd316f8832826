/** Longest pause between retries of a failing database statement (claim or write-back). */
export const MAX_ERROR_BACKOFF_MS = 5_000;

/**
 * How long to wait after `errorsInRow` failures in a row of a statement the relay must retry
 * until the database answers: doubling from `baseMs`, at most MAX_ERROR_BACKOFF_MS.
 *
 * @example
 * errorBackoffMs(50, 3) // 400
 */
export function errorBackoffMs(baseMs: number, errorsInRow: number): number {
  return Math.min(MAX_ERROR_BACKOFF_MS, baseMs * 2 ** errorsInRow);
}
