import { parseRetryAfter } from './retry-after.js';

/** Response headers as undici gives them. */
export type WebhookResponseHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * What a receiver's answer means for the message:
 * - `delivered`: 2xx.
 * - `transient`: 429 or 5xx; retry, after `retryAfterMs` when the receiver sent Retry-After.
 * - `permanent`: `gone` (410: the endpoint is disabled), `redirect` (3xx, never followed;
 *   `location` as sent), or `rejected` (any other status).
 */
export type WebhookVerdict =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'transient'; readonly retryAfterMs: number | undefined }
  | { readonly outcome: 'permanent'; readonly reason: 'gone' }
  | { readonly outcome: 'permanent'; readonly reason: 'redirect'; readonly location: string | undefined }
  | { readonly outcome: 'permanent'; readonly reason: 'rejected' };

/**
 * Classifies a webhook response by its status and headers, the Standard Webhooks way.
 * Pure: `now` is the clock's time, for an HTTP-date Retry-After; `maxRetryAfterMs` clamps it.
 *
 * @example
 * classifyWebhookResponse(503, { 'retry-after': '30' }, { now: new Date(), maxRetryAfterMs: 3_600_000 });
 * // { outcome: 'transient', retryAfterMs: 30000 }
 */
export function classifyWebhookResponse(
  status: number,
  headers: WebhookResponseHeaders,
  options: { readonly now: Date; readonly maxRetryAfterMs: number },
): WebhookVerdict {
  if (status >= 200 && status < 300) return { outcome: 'delivered' };
  if (status === 429 || status >= 500) {
    return {
      outcome: 'transient',
      retryAfterMs: parseRetryAfter(headers['retry-after'], options.now, options.maxRetryAfterMs),
    };
  }
  if (status === 410) return { outcome: 'permanent', reason: 'gone' };
  if (status >= 300 && status < 400) {
    const location = headers.location;
    return {
      outcome: 'permanent',
      reason: 'redirect',
      location: typeof location === 'string' ? location : undefined,
    };
  }
  return { outcome: 'permanent', reason: 'rejected' };
}
