import type { DestinationPolicyStatus } from '../../core/maintenance/destination-limits.js';

/**
 * A limit in a few words, for the CLI's list and the status page: `100/s burst 20, 4 in flight,
 * 1200 throttled`.
 *
 * @example
 * describeLimit({ ratePerSecond: 10, burst: 10, maxInFlight: null, throttled: 0, ... }) // '10/s burst 10'
 */
export function describeLimit(
  l: Pick<DestinationPolicyStatus, 'ratePerSecond' | 'burst' | 'maxInFlight' | 'throttled'>,
): string {
  return [
    l.ratePerSecond === null ? null : `${l.ratePerSecond}/s burst ${l.burst}`,
    l.maxInFlight === null ? null : `${l.maxInFlight} in flight`,
    l.throttled > 0 ? `${l.throttled} throttled` : null,
  ]
    .filter((p) => p !== null)
    .join(', ');
}
