import { describe, expect, it } from 'vitest';
import { classifyWebhookResponse } from '../../src/publishers/webhook/webhook-response.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const classify = (status: number, headers: Record<string, string> = {}, maxRetryAfterMs = 3_600_000) =>
  classifyWebhookResponse(status, headers, { now: NOW, maxRetryAfterMs });

describe('classifyWebhookResponse', () => {
  it.each([200, 201, 202, 204, 299])('%i is delivered', (status) => {
    expect(classify(status)).toEqual({ outcome: 'delivered' });
  });

  it.each([429, 500, 502, 503, 504, 599])('%i is transient, without a Retry-After by default', (status) => {
    expect(classify(status)).toEqual({ outcome: 'transient', retryAfterMs: undefined });
  });

  it('honours Retry-After on a transient answer: seconds, or an HTTP-date from the given now, clamped', () => {
    expect(classify(503, { 'retry-after': '30' })).toEqual({ outcome: 'transient', retryAfterMs: 30_000 });
    expect(classify(429, { 'retry-after': 'Tue, 01 Jan 2030 00:01:30 GMT' })).toEqual({
      outcome: 'transient',
      retryAfterMs: 90_000,
    });
    expect(classify(503, { 'retry-after': '7200' }, 60_000)).toEqual({
      outcome: 'transient',
      retryAfterMs: 60_000,
    });
  });

  it('410 Gone is permanent and says so, so the publisher can disable the endpoint', () => {
    expect(classify(410, { 'retry-after': '30' })).toEqual({ outcome: 'permanent', reason: 'gone' });
  });

  it.each([301, 302, 307, 308])('%i is a permanent redirect carrying its Location', (status) => {
    expect(classify(status, { location: '/moved?token=x' })).toEqual({
      outcome: 'permanent',
      reason: 'redirect',
      location: '/moved?token=x',
    });
    expect(classify(status)).toEqual({ outcome: 'permanent', reason: 'redirect', location: undefined });
  });

  it.each([100, 400, 401, 403, 404, 409, 422])('%i is permanently rejected', (status) => {
    expect(classify(status)).toEqual({ outcome: 'permanent', reason: 'rejected' });
  });
});
