import { expect, it } from 'vitest';
import { DEFAULT_MAX_ATTEMPTS } from '../../src/core/producer/outbox.js';
import { DEFAULT_RETRY_POLICY } from '../../src/core/relay/retry-policy.js';
import { INBOX_RETENTION_DAYS } from '../../src/inbox/index.js';

it("keeps inbox ids longer than the relay's default retry schedule at its slowest", () => {
  const { baseDelayMs, factor, maxDelayMs, jitter } = DEFAULT_RETRY_POLICY;
  let scheduleMs = 0;
  // The waits between DEFAULT_MAX_ATTEMPTS attempts, each at its longest (+jitter, still capped).
  for (let attempt = 1; attempt < DEFAULT_MAX_ATTEMPTS; attempt++) {
    const exponential = Math.min(maxDelayMs, baseDelayMs * factor ** (attempt - 1));
    scheduleMs += Math.min(maxDelayMs, exponential * (1 + jitter));
  }
  const hours = scheduleMs / 3_600_000;
  expect(hours).toBeGreaterThan(13); // what the README says: about 13.4 hours
  expect(hours).toBeLessThan(14);
  expect(INBOX_RETENTION_DAYS * 24).toBeGreaterThan(hours * 2);
});
