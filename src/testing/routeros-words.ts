/**
 * The RouterOS API framing: a word is a length prefix plus bytes, a sentence is words ended
 * by an empty word. Written from the protocol description (routeros-notes.md section 1), not
 * from node-routeros, so the fake router checks the client instead of sharing its bugs.
 */

/** Largest length each prefix form can carry, in prefix-size order (1..4 bytes; 5 bytes beyond). */
const LENGTH_LIMITS = [0x7f, 0x3fff, 0x1fffff, 0xfffffff] as const;

/** First bytes >= 0xF8 are reserved control bytes; RouterOS never sends them. */
const FIRST_CONTROL_BYTE = 0xf8;

/**
 * Encodes a word length in the shortest form (1 to 5 bytes, big-endian).
 *
 * @example
 * encodeLength(0x80) // <Buffer 80 80>
 */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(`word length must be an integer 0..0xFFFFFFFF, got ${length}`);
  }
  if (length <= LENGTH_LIMITS[0]) return Buffer.from([length]);
  if (length <= LENGTH_LIMITS[1]) return Buffer.from([0x80 | (length >>> 8), length & 0xff]);
  if (length <= LENGTH_LIMITS[2]) {
    return Buffer.from([0xc0 | (length >>> 16), (length >>> 8) & 0xff, length & 0xff]);
  }
  if (length <= LENGTH_LIMITS[3]) {
    return Buffer.from([
      0xe0 | (length >>> 24),
      (length >>> 16) & 0xff,
      (length >>> 8) & 0xff,
      length & 0xff,
    ]);
  }
  const out = Buffer.alloc(5);
  out[0] = 0xf0;
  out.writeUInt32BE(length, 1);
  return out;
}

/**
 * Decodes a word length at `offset`. Returns `undefined` when the prefix is not complete yet
 * (a TCP chunk may end inside it), and throws on a reserved control byte.
 *
 * @example
 * decodeLength(Buffer.from([0x80, 0x80]), 0) // { length: 0x80, bytes: 2 }
 */
export function decodeLength(buffer: Buffer, offset = 0): { length: number; bytes: number } | undefined {
  if (offset >= buffer.length) return undefined;
  const first = buffer[offset]!;
  if (first >= FIRST_CONTROL_BYTE)
    throw new Error(`reserved control byte 0x${first.toString(16)} in word length`);
  const bytes = first < 0x80 ? 1 : first < 0xc0 ? 2 : first < 0xe0 ? 3 : first < 0xf0 ? 4 : 5;
  if (offset + bytes > buffer.length) return undefined;
  if (bytes === 5) return { length: buffer.readUInt32BE(offset + 1), bytes };
  // Drop the form's marker bits from the first byte, then append the following bytes.
  let length = first & (0xff >>> bytes);
  for (let i = 1; i < bytes; i++) length = length * 256 + buffer[offset + i]!;
  return { length, bytes };
}

/**
 * Encodes one word. Text is sent as latin1, which matches RouterOS' 8-bit charset for ASCII.
 *
 * @example
 * encodeWord('!done') // <Buffer 05 21 64 6f 6e 65>
 */
export function encodeWord(word: string): Buffer {
  const bytes = Buffer.from(word, 'latin1');
  return Buffer.concat([encodeLength(bytes.length), bytes]);
}

/**
 * Encodes a sentence: its words followed by the empty word.
 *
 * @example
 * encodeSentence(['!done', '.tag=7'])
 */
export function encodeSentence(words: readonly string[]): Buffer {
  return Buffer.concat([...words.map(encodeWord), Buffer.from([0])]);
}

/**
 * Reassembles sentences from a byte stream cut at arbitrary points.
 *
 * @example
 * const reader = new SentenceReader();
 * socket.on('data', (chunk) => { for (const words of reader.push(chunk)) handle(words); });
 */
export class SentenceReader {
  #pending: Buffer = Buffer.alloc(0);
  #words: string[] = [];

  /** Feeds bytes; returns every sentence completed by them (empty sentences are skipped). */
  push(chunk: Buffer): string[][] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const sentences: string[][] = [];
    let offset = 0;
    for (;;) {
      const prefix = decodeLength(this.#pending, offset);
      if (!prefix) break;
      const end = offset + prefix.bytes + prefix.length;
      if (end > this.#pending.length) break;
      if (prefix.length === 0) {
        if (this.#words.length > 0) sentences.push(this.#words);
        this.#words = [];
      } else {
        this.#words.push(this.#pending.toString('latin1', offset + prefix.bytes, end));
      }
      offset = end;
    }
    this.#pending = this.#pending.subarray(offset);
    return sentences;
  }
}
