import { epochMs } from '../foundation/clock.js';
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = new Uint8Array(16 * 256);
let poolOffset = pool.length;

/**
 * A UUIDv7 (RFC 9562): 48-bit unix milliseconds, then random bits. Time-ordered ids keep
 * the message_id unique index append-mostly, which keeps inserts cheap.
 *
 * @example
 * uuidV7() // '01935c7e-8b4a-7c3e-9f1d-2a6b8c0d4e5f'
 */
export function uuidV7(nowMs: number = epochMs(undefined)): string {
  // Refill randomness in bulk: one crypto call per 256 ids instead of one per id.
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  const hi = Math.floor(nowMs / 2 ** 16);
  b[0] = (hi >>> 24) & 0xff;
  b[1] = (hi >>> 16) & 0xff;
  b[2] = (hi >>> 8) & 0xff;
  b[3] = hi & 0xff;
  b[4] = (nowMs >>> 8) & 0xff;
  b[5] = nowMs & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]!];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
