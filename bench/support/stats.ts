/**
 * Statistics every bench module computes the same way, so numbers from different scenarios
 * and scripts compare.
 */

/** The p-th percentile of an ascending array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * The median of unsorted numbers: the middle one, or the mean of the two middle ones for an even
 * count. (It was the nearest-rank 50th percentile, the upper of the two: with four paired rounds
 * that is the third smallest, so two slow rounds of four decided the result.)
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
