import { UsageError } from '../command.js';

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `--since`: an ISO date/time, or an age like `30m`, `6h`, `2d` (that long ago).
 *
 * @example
 * parseSince('2h', new Date('2030-01-01T12:00:00Z')) // 2030-01-01T10:00:00Z
 */
export function parseSince(text: string, now = new Date()): Date {
  const age = /^(\d+)([smhd])$/.exec(text.trim());
  if (age) return new Date(now.getTime() - Number(age[1]) * UNITS_MS[age[2]!]!);
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`--since must be an ISO date or an age like 30m, 6h, 2d; got "${text}"`);
  return date;
}
