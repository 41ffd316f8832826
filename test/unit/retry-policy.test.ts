import { describe, expect, it } from 'vitest';
import { backoffDelayMs, resolveRetryPolicy } from '../../src/core/relay/retry-policy.js';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';

describe('backoffDelayMs', () => {
  const policy = { baseDelayMs: 1000, factor: 2, maxDelayMs: 10_000, jitter: 0 };

  it('grows exponentially from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, policy))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('spreads by ±jitter around the exponential value, never past the cap', () => {
    const p = { ...policy, jitter: 0.5 };
    expect(backoffDelayMs(2, p, () => 0)).toBe(1000);
    expect(backoffDelayMs(2, p, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(2, p, () => 0.999999)).toBe(3000);
    expect(backoffDelayMs(10, p, () => 0.999999)).toBe(10_000);
  });

  it('rejects a policy that cannot work, naming the field', () => {
    expect(() => resolveRetryPolicy({ factor: 0.5 })).toThrow(OutboxValidationError);
    expect(() => resolveRetryPolicy({ factor: 0.5 })).toThrow(/retry\.factor/);
    expect(() => resolveRetryPolicy({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/retry\.maxDelayMs/);
    expect(() => resolveRetryPolicy({ jitter: 2 })).toThrow(/retry\.jitter/);
  });
});
