/**
 * Why a row died, the values of the `dead_reason` column (its check constraint, migration 4):
 * declared once here; the type, the dead-letter filters and the status page derive from it.
 *
 * @example
 * DEAD_REASONS.includes('permanent') // true
 */
export const DEAD_REASONS = [
  'max_attempts',
  'permanent',
  'unroutable',
  'lease_expired',
  'unstorable_result',
] as const;

/** Why a row died (the `dead_reason` column). */
export type DeadReason = (typeof DEAD_REASONS)[number];

/**
 * The reason shown for dead rows that have no `dead_reason` (they died before a relay wrote
 * one); no dead-letter filter can name it, so the status page acts on such rows by id.
 */
export const UNKNOWN_DEAD_REASON = 'unknown';

/**
 * Narrows a text to a `DeadReason`, or undefined when it names none.
 *
 * @example
 * asDeadReason('permanent') // 'permanent'
 * asDeadReason('unknown')   // undefined
 */
export function asDeadReason(text: unknown): DeadReason | undefined {
  return DEAD_REASONS.find((r) => r === text);
}
