import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/publishers/webhook/retry-after.js';

const NOW = new Date('2030-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP-date relative to the injected now', () => {
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:01:30 GMT', NOW)).toBe(90_000);
  });

  it('clamps a date in the past to 0 and a huge delay to the maximum', () => {
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('999999999', NOW)).toBe(3_600_000);
    expect(parseRetryAfter('600', NOW, 60_000)).toBe(60_000);
  });

  it('ignores what it cannot read, so the relay falls back to its own backoff', () => {
    for (const value of [undefined, '', '-5', '1.5', 'soon', '12abc']) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});
