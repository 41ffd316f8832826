/**
 * The relay: claims due messages, publishes them through the publishers, writes outcomes back
 * (relay.ts runs the loop; claim-pacing, publish-attempt, write-back and follower-parking are
 * its parts; retry-policy computes backoff).
 *
 * @example
 * import { createRelay } from '../relay/index.js';
 */
export {
  ATTEMPT_LOG_MODES,
  type AttemptLogMode,
  DEFAULT_ATTEMPT_LOG,
} from './attempt-record.js';
export {
  BREAKER_OPTION_BOUNDS,
  type BreakerOptions,
  DEFAULT_BREAKER_FAILURE_RATIO,
  DEFAULT_BREAKER_MIN_ATTEMPTS,
  DEFAULT_BREAKER_PROBE_MAX_MS,
  DEFAULT_BREAKER_PROBE_MS,
  DEFAULT_BREAKER_WINDOW_MS,
} from './breaker-options.js';
export { OPS_EVENT_TYPES } from './ops-events.js';
export {
  BUSY_POLL_INTERVAL_MS,
  createRelay,
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_LEASE_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  type DeliveredInfo,
  type DestinationPauseInfo,
  RELAY_OPTION_BOUNDS,
  type Relay,
  type RelayCounters,
  type RelayEvents,
  type RelayHints,
  type RelayOptions,
  type RoundResult,
} from './relay.js';
export {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  RETRY_POLICY_BOUNDS,
  type RetryPolicy,
  resolveRetryPolicy,
} from './retry-policy.js';
