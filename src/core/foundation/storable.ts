/**
 * Making what publishers hand back storable. PostgreSQL refuses NUL in text and jsonb and
 * lone UTF-16 surrogates in jsonb (SQLSTATE 22P05): one such value in a batched write-back
 * would fail the whole batch. Everything the relay writes from a publisher passes here first.
 */

/** Longest `last_error` kept, in UTF-8 bytes. */
export const MAX_ERROR_BYTES = 8 * 1024;
/** Longest `result` kept, in bytes of JSON text; a longer result is stored as null. */
export const MAX_RESULT_BYTES = 64 * 1024;

// NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL refuses.
const UNSTORABLE_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// The same characters as JSON.stringify escapes them (it escapes lone surrogates since ES2019).
const UNSTORABLE_ESCAPES = /\\u0000|\\ud[89ab][0-9a-f]{2}|\\ud[c-f][0-9a-f]{2}/i;

/**
 * Text PostgreSQL accepts: NUL and lone surrogates replaced by U+FFFD, cut to `maxBytes`
 * UTF-8 bytes without splitting a character.
 *
 * @example
 * storableText('a\u0000b') // 'a\uFFFDb'
 */
export function storableText(text: string, maxBytes = MAX_ERROR_BYTES): string {
  const clean = text.replace(UNSTORABLE_CHARS, '\uFFFD');
  if (clean.length * 3 <= maxBytes || Buffer.byteLength(clean) <= maxBytes) return clean;
  const cut = Buffer.from(clean)
    .subarray(0, maxBytes - 3)
    .toString('utf8');
  // A character cut in half decodes to U+FFFD at the end: drop it, then mark the cut.
  return `${cut.replace(/\uFFFD$/, '')}…`;
}

function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value, Number.POSITIVE_INFINITY);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [storableText(k, Number.POSITIVE_INFINITY), cleanJson(v)]),
    );
  }
  return value;
}

/**
 * A publisher's resolved value as jsonb text, or null: undefined/null and results over
 * `MAX_RESULT_BYTES` are null, a value JSON cannot represent (a BigInt, a cycle) is stored as
 * its description, and strings and keys are made storable.
 *
 * @example
 * resultJson({ status: 200 }) // '{"status":200}'
 * resultJson(10n) // '"10"'
 */
export function resultJson(result: unknown): string | null {
  if (result === undefined || result === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch {
    // Not representable as JSON (cycle, BigInt): its description says what it was.
    text = JSON.stringify(storableText(String(result), MAX_RESULT_BYTES));
  }
  if (text === undefined) return null; // a function or symbol
  // The escapes are rare; only then is the value walked (a false hit costs one walk).
  if (UNSTORABLE_ESCAPES.test(text)) text = JSON.stringify(cleanJson(JSON.parse(text)));
  return text.length > MAX_RESULT_BYTES ? null : text;
}

/**
 * Longest wait a publisher's `retryAfterMs` may ask for: a server's Retry-After may exceed the
 * backoff cap (it knows best), but not without bound.
 */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * A publisher's `retryAfterMs` as a delay the database can add: a finite number in
 * [0, max(maxDelayMs, MAX_RETRY_AFTER_MS)], or undefined (use the backoff) when it is not a
 * number at all.
 *
 * @example
 * clampRetryAfterMs(Number.NaN, 3_600_000) // undefined
 * clampRetryAfterMs(Number.POSITIVE_INFINITY, 3_600_000) // 86400000
 */
export function clampRetryAfterMs(retryAfterMs: unknown, maxDelayMs: number): number | undefined {
  if (typeof retryAfterMs !== 'number' || Number.isNaN(retryAfterMs)) return undefined;
  return Math.min(Math.max(retryAfterMs, 0), Math.max(maxDelayMs, MAX_RETRY_AFTER_MS));
}

/**
 * Whether a database error is about the data of a row (SQLSTATE class 22 data exception or
 * 23 integrity constraint), so writing the rows one by one isolates it.
 *
 * @example
 * isDataError({ code: '22P05' }) // true
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
