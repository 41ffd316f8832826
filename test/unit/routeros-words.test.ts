import { describe, expect, it } from 'vitest';
import {
  decodeLength,
  encodeLength,
  encodeSentence,
  SentenceReader,
} from '../../src/testing/routeros-words.js';

const BOUNDARIES: [number, number][] = [
  [0, 1],
  [0x7f, 1],
  [0x80, 2],
  [0x3fff, 2],
  [0x4000, 3],
  [0x1fffff, 3],
  [0x200000, 4],
  [0xfffffff, 4],
  [0x10000000, 5],
  [0xffffffff, 5],
];

describe('RouterOS word length codec', () => {
  it.each(BOUNDARIES)('encodes %i in the shortest form (%i bytes) and decodes it back', (length, bytes) => {
    const encoded = encodeLength(length);
    expect(encoded.length).toBe(bytes);
    expect(decodeLength(encoded)).toEqual({ length, bytes });
  });

  it('uses the marker bits of each form', () => {
    expect([...encodeLength(0x7f)]).toEqual([0x7f]);
    expect([...encodeLength(0x80)]).toEqual([0x80, 0x80]);
    expect([...encodeLength(0x3fff)]).toEqual([0xbf, 0xff]);
    expect([...encodeLength(0x4000)]).toEqual([0xc0, 0x40, 0x00]);
    expect([...encodeLength(0x1fffff)]).toEqual([0xdf, 0xff, 0xff]);
    expect([...encodeLength(0x200000)]).toEqual([0xe0, 0x20, 0x00, 0x00]);
    expect([...encodeLength(0xfffffff)]).toEqual([0xef, 0xff, 0xff, 0xff]);
    expect([...encodeLength(0x10000000)]).toEqual([0xf0, 0x10, 0x00, 0x00, 0x00]);
  });

  it('reports an incomplete prefix as undefined instead of guessing', () => {
    for (const [length, bytes] of BOUNDARIES) {
      const encoded = encodeLength(length);
      for (let cut = 0; cut < bytes; cut++) expect(decodeLength(encoded.subarray(0, cut))).toBeUndefined();
    }
  });

  it('refuses reserved control bytes', () => {
    expect(() => decodeLength(Buffer.from([0xf8]))).toThrow(/control byte/);
  });

  it('reassembles sentences cut at every byte', () => {
    const long = 'x'.repeat(0x4000);
    const stream = Buffer.concat([
      encodeSentence(['!re', '.tag=1', `=comment=${long}`, '=name=a=b']),
      Buffer.from([0]),
      encodeSentence(['!done', '.tag=1']),
    ]);
    for (const step of [1, 2, 3, 7, 129, 4096]) {
      const reader = new SentenceReader();
      const sentences: string[][] = [];
      for (let i = 0; i < stream.length; i += step)
        sentences.push(...reader.push(stream.subarray(i, i + step)));
      expect(sentences).toEqual([
        ['!re', '.tag=1', `=comment=${long}`, '=name=a=b'],
        ['!done', '.tag=1'],
      ]);
    }
  });
});
