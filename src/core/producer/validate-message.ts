import { OutboxValidationError } from '../foundation/errors.js';

/** Default limit for one message's payload, in bytes of its JSON text. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// JSON.stringify escapes lone surrogates (\udXXX) and NUL (\u0000); paired surrogates are
// emitted raw. PostgreSQL's jsonb rejects both escapes, so we catch them here with a clear
// error instead of a failed INSERT that aborts the caller's transaction. The lookbehind
// skips escaped backslashes (a literal "\\u0000" in the text is fine).
const JSONB_UNSUPPORTED_ESCAPE = /(?<!\\)(?:\\\\)*\\u(0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Serializes a payload (or headers) to JSON text, rejecting what PostgreSQL jsonb or a
 * receiver could not take: undefined, functions, BigInt, cycles, NUL, lone surrogates, size.
 *
 * @example
 * toJsonText({ a: 1 }, 'payload', 1024) // '{"a":1}'
 */
export function toJsonText(value: unknown, field: string, maxBytes: number): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new OutboxValidationError(field, `must be a JSON value, got ${typeof value}`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OutboxValidationError(
      field,
      `is not JSON-serializable (${reason}); convert BigInt to string and remove circular references`,
      { cause: error },
    );
  }
  if (text === undefined) throw new OutboxValidationError(field, 'must be a JSON value');
  const bad = JSONB_UNSUPPORTED_ESCAPE.exec(text);
  if (bad) {
    const what = bad[1] === '0000' ? 'a NUL character (\\u0000)' : `a lone UTF-16 surrogate (\\u${bad[1]})`;
    throw new OutboxValidationError(
      field,
      `contains ${what}, which PostgreSQL jsonb cannot store; remove it or encode the value (e.g. base64)`,
    );
  }
  // Length in UTF-16 units is a lower bound of UTF-8 bytes; only measure when it could matter.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      throw new OutboxValidationError(
        field,
        `is ${bytes} bytes of JSON, over the limit of ${maxBytes} bytes`,
      );
    }
  }
  return text;
}

/** A required non-empty string of at most `maxLength` characters. */
export function requireText(value: unknown, field: string, maxLength = 500): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new OutboxValidationError(
      field,
      `must be a non-empty string, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  if (value.length > maxLength) {
    throw new OutboxValidationError(field, `must be at most ${maxLength} characters, got ${value.length}`);
  }
  return value;
}

/** An optional string: null/undefined become null. */
export function optionalText(value: unknown, field: string, maxLength = 500): string | null {
  return value === undefined || value === null ? null : requireText(value, field, maxLength);
}

/** A UUID string (any version) for message_id. */
export function requireUuid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !UUID_RE.test(value)) {
    throw new OutboxValidationError(
      field,
      `must be a UUID like 01935c7e-8b4a-7c3e-9f1d-2a6b8c0d4e5f, got ${JSON.stringify(value)}`,
    );
  }
  return value.toLowerCase();
}

/** Headers: a plain object of string values, as JSON text. */
export function headersJson(value: unknown, field: string): string {
  if (value === undefined || value === null) return '{}';
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new OutboxValidationError(field, 'must be an object of string values');
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new OutboxValidationError(`${field}.${k}`, `must be a string, got ${typeof v}`);
    }
  }
  return toJsonText(value, field, 64 * 1024);
}

/** An optional valid Date. */
export function optionalDate(value: unknown, field: string): Date | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new OutboxValidationError(field, 'must be a valid Date');
  }
  return value;
}
