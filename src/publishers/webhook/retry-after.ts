/** A receiver asking for more than this is clamped: a typo'd or hostile header must not park a message for days. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Reads an HTTP `Retry-After` value, either delay-seconds or an HTTP-date (RFC 9110 10.2.3),
 * as milliseconds from `now`, clamped to `0..maxMs`. Returns undefined when absent or
 * unparsable, so the relay falls back to its own backoff.
 *
 * @example
 * parseRetryAfter('120', new Date()) // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', new Date('2015-10-21T07:27:00Z')) // 60000
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  now: Date,
  maxMs: number = DEFAULT_MAX_RETRY_AFTER_MS,
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : (value as string | undefined))?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // Only accept something that looks like a date; Date.parse alone accepts '1' or '-5'.
    if (!/[a-z]/i.test(text)) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now.getTime();
  }
  if (!Number.isFinite(ms)) return maxMs;
  return Math.min(Math.max(ms, 0), maxMs);
}
