import { OutboxValidationError } from './errors.js';

/** The inclusive range of an integer option: declared once, read by the library's validator and the binary's settings. */
export interface IntBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * An integer within `bounds`, or an `OutboxValidationError` naming the field and the range.
 *
 * @example
 * const batchSize = requireInt(options.batchSize ?? 500, 'batchSize', { min: 1, max: 10_000 });
 */
export function requireInt(value: unknown, field: string, bounds: IntBounds): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new OutboxValidationError(
      field,
      `must be an integer ${bounds.min}..${bounds.max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Checks a publisher option that must be a positive finite number (a timeout, a byte or
 * connection count): returns it, or `fallback` when it is absent and has one; throws an
 * `OutboxValidationError` naming the option otherwise (a required option has no fallback).
 *
 * @example
 * const timeoutMs = positiveOption('timeoutMs', options.timeoutMs, 'milliseconds', 15_000);
 */
export function positiveOption(field: string, value: unknown, unit: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new OutboxValidationError(field, `must be a positive number of ${unit}, got ${String(value)}`);
  }
  return value;
}
