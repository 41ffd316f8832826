import { describe, expect, it } from 'vitest';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';
import { quoteSchema } from '../../src/core/foundation/schema-name.js';
import { uuidV7 } from '../../src/core/producer/uuid-v7.js';
import { toJsonText } from '../../src/core/producer/validate-message.js';

function errorOf(fn: () => unknown): OutboxValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OutboxValidationError) return e;
    throw e;
  }
  throw new Error('expected an OutboxValidationError');
}

describe('toJsonText', () => {
  it('returns the JSON text of a plain value', () => {
    expect(toJsonText({ a: [1, 'x', null] }, 'payload', 1024)).toBe('{"a":[1,"x",null]}');
  });

  it('rejects BigInt, cycles and undefined naming the field and the fix', () => {
    expect(errorOf(() => toJsonText({ n: 1n }, 'payload', 1024)).message).toMatch(/^payload: .*BigInt/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(errorOf(() => toJsonText(cyclic, 'payload', 1024)).field).toBe('payload');
    expect(errorOf(() => toJsonText(undefined, 'payload', 1024)).message).toMatch(/JSON value/);
  });

  it('rejects NUL and lone surrogates that PostgreSQL jsonb cannot store', () => {
    expect(errorOf(() => toJsonText({ s: 'a\u0000b' }, 'payload', 1024)).message).toMatch(/NUL/);
    expect(errorOf(() => toJsonText({ s: '\ud800' }, 'payload', 1024)).message).toMatch(/surrogate/);
    expect(errorOf(() => toJsonText({ s: 'x\udc00' }, 'payload', 1024)).message).toMatch(/surrogate/);
  });

  it('accepts paired surrogates and escaped backslashes that only look like escapes', () => {
    expect(toJsonText({ s: '😀' }, 'payload', 1024)).toBe('{"s":"😀"}');
    expect(toJsonText({ s: '\\u0000' }, 'payload', 1024)).toBe('{"s":"\\\\u0000"}');
  });

  it('measures the limit in UTF-8 bytes, not characters', () => {
    expect(toJsonText('é'.repeat(4), 'payload', 10)).toBe('"éééé"'); // 10 bytes
    expect(errorOf(() => toJsonText('é'.repeat(5), 'payload', 10)).message).toMatch(/12 bytes.*limit of 10/);
  });
});

describe('quoteSchema', () => {
  it('quotes a valid identifier', () => {
    expect(quoteSchema('outbox_2')).toBe('"outbox_2"');
  });

  it.each(['x; drop table y', 'Outbox', '"x"', '', '1abc', 'a'.repeat(64)])('refuses %j', (name) => {
    expect(errorOf(() => quoteSchema(name)).field).toBe('schema');
  });
});

describe('uuidV7', () => {
  it('is a version-7, variant-1 UUID carrying the timestamp', () => {
    const id = uuidV7(0x0193_5c7e_8b4a);
    expect(id).toMatch(/^01935c7e-8b4a-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sorts by creation time and does not repeat', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidV7(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
