import { describe, expect, it } from 'vitest';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';
import { parseDestination } from '../../src/core/foundation/parse-destination.js';
import { parseMessageRef, splitMessageRefs } from '../../src/core/foundation/parse-message-ref.js';
import {
  clampRetryAfterMs,
  isDataError,
  MAX_RETRY_AFTER_MS,
  resultJson,
  storableText,
} from '../../src/core/foundation/storable.js';

describe('parseDestination', () => {
  it('splits at the first colon only', () => {
    expect(parseDestination('routeros:tower-3')).toEqual({ route: 'routeros', target: 'tower-3' });
    expect(parseDestination('webhook:a:b')).toEqual({ route: 'webhook', target: 'a:b' });
    expect(parseDestination('webhook')).toEqual({ route: 'webhook', target: undefined });
  });
});

describe('parseMessageRef', () => {
  it('tells a row id from a message_id and refuses anything else', () => {
    expect(parseMessageRef('42')).toEqual({ kind: 'id', id: '42' });
    expect(parseMessageRef('0193E5A2-7C1B-7CC0-9D1E-2F3A4B5C6D7E')).toEqual({
      kind: 'messageId',
      messageId: '0193e5a2-7c1b-7cc0-9d1e-2f3a4b5c6d7e',
    });
    for (const bad of ['', '-1', '1.5', 'abc', '12-34', '99999999999999999999'])
      expect(() => parseMessageRef(bad)).toThrow(OutboxValidationError);
    expect(splitMessageRefs(['1', '0193e5a2-7c1b-7cc0-9d1e-2f3a4b5c6d7e', '2'])).toEqual({
      ids: ['1', '2'],
      messageIds: ['0193e5a2-7c1b-7cc0-9d1e-2f3a4b5c6d7e'],
    });
  });
});

describe('storable values', () => {
  it('replaces NUL and lone surrogates, keeps valid pairs, and cuts to the byte limit on a character boundary', () => {
    expect(storableText('a\u0000b\ud800c\udc00d😀')).toBe('a\uFFFDb\uFFFDc\uFFFDd😀');
    const cut = storableText('é'.repeat(100), 11);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(11);
    expect(cut).toBe('éééé…');
  });

  it('turns results into storable jsonb text or null', () => {
    expect(resultJson(undefined)).toBeNull();
    expect(resultJson({ a: 1 })).toBe('{"a":1}');
    expect(resultJson(10n)).toBe('"10"');
    expect(resultJson({ 'k\u0000': ['\ud800'] })).toBe('{"k\uFFFD":["\uFFFD"]}');
    expect(resultJson('x'.repeat(70 * 1024))).toBeNull();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(resultJson(cycle)).toBe('"[object Object]"');
  });

  it('clamps retryAfterMs to [0, a day or the backoff cap] and ignores what is not a number', () => {
    expect(clampRetryAfterMs(Number.NaN, 1000)).toBeUndefined();
    expect(clampRetryAfterMs('5', 1000)).toBeUndefined();
    expect(clampRetryAfterMs(Number.POSITIVE_INFINITY, 1000)).toBe(MAX_RETRY_AFTER_MS);
    expect(clampRetryAfterMs(Number.POSITIVE_INFINITY, 2 * MAX_RETRY_AFTER_MS)).toBe(2 * MAX_RETRY_AFTER_MS);
    expect(clampRetryAfterMs(-5, 1000)).toBe(0);
    expect(clampRetryAfterMs(120_000, 1000)).toBe(120_000);
  });

  it('knows data errors by SQLSTATE class', () => {
    expect(isDataError({ code: '22P05' })).toBe(true);
    expect(isDataError({ code: '23514' })).toBe(true);
    expect(isDataError({ code: '57P01' })).toBe(false);
    expect(isDataError(new Error('x'))).toBe(false);
  });
});
