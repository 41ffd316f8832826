import type { DestinationPolicy } from '../../core/foundation/destination-policy.js';
import { OutboxValidationError } from '../../core/foundation/errors.js';
import type { Queryable } from '../../core/foundation/queryable.js';
import { clearDestinationPolicy, setDestinationPolicy } from '../../core/maintenance/destination-limits.js';

/** A number given as text (a CLI flag) or as JSON (an admin request body); undefined when absent. */
function numberOf(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new OutboxValidationError(field, `must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The policy named by `--rate --burst --max-in-flight` or an admin body
 * `{ rate?, burst?, maxInFlight? }`; the library checks the bounds.
 *
 * @example
 * policyOf({ rate: '100', burst: '20', maxInFlight: '4' }) // { ratePerSecond: 100, burst: 20, maxInFlight: 4 }
 */
export function policyOf(fields: {
  rate?: unknown;
  burst?: unknown;
  maxInFlight?: unknown;
}): DestinationPolicy {
  return {
    ratePerSecond: numberOf(fields.rate, 'rate'),
    burst: numberOf(fields.burst, 'burst'),
    maxInFlight: numberOf(fields.maxInFlight, 'maxInFlight'),
  };
}

/**
 * Sets or clears a limit: the one place the CLI and the admin routes act on limits.
 *
 * @example
 * await runLimitAction(db, 'outbox', 'set', 'webhook:*', { ratePerSecond: 100 });
 */
export async function runLimitAction(
  db: Queryable,
  schema: string,
  action: 'set' | 'unset',
  pattern: string,
  policy: DestinationPolicy = {},
): Promise<string> {
  if (action === 'unset') {
    const r = await clearDestinationPolicy(db, pattern, { schema });
    return r.cleared
      ? `cleared the limit of ${r.pattern}; ${r.released} throttled messages are due now`
      : `${r.pattern} had no limit`;
  }
  const r = await setDestinationPolicy(db, pattern, policy, { schema });
  const parts = [
    r.ratePerSecond === null ? null : `${r.ratePerSecond}/s (burst ${r.burst})`,
    r.maxInFlight === null ? null : `at most ${r.maxInFlight} in flight`,
  ].filter((p) => p !== null);
  return `limited ${r.pattern} to ${parts.join(', ')} for every relay`;
}
