// The bench's statistics decide pass or fail in the reliability suite (blocked-key's medians of
// paired rounds), so their definitions are pinned here.
import { describe, expect, it } from 'vitest';
import { median, percentile } from '../../bench/support/stats.js';

describe('bench statistics', () => {
  it('a median of an even count is the mean of the two middle values, not the upper one', () => {
    // Four rounds of a claim ratio as a CI run gave them: two slow rounds must not decide alone.
    expect(median([2.04, 2.22, 1.06, 1.09])).toBeCloseTo(1.565, 10);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });

  it('percentiles stay nearest-rank over ascending input', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
  });
});
