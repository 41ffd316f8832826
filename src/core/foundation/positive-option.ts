import { OutboxValidationError } from './errors.js';

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
