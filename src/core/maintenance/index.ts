/**
 * Maintenance: retention cleanup, dead letters (list, inspect, replay, purge), the attempt log
 * and a message's story, and stats, each
 * a function over the store's statements, batched so no statement holds a huge lock set.
 *
 * @example
 * import { cleanupDelivered, replayDead } from '../maintenance/index.js';
 */
export {
  type AttemptRow,
  DEFAULT_ATTEMPTS_LIMIT,
  type ListAttemptsOptions,
  listAttempts,
} from './attempts.js';
export { type CleanupResult, cleanupDelivered, DEFAULT_CLEANUP_BATCH_SIZE } from './cleanup-delivered.js';
export {
  type DeadFilter,
  type DeadSelector,
  getMessage,
  listDead,
  purgeDead,
  replayDead,
  type StoredMessage,
} from './dead-letters.js';
export { getMessageStory, type MessageState, type MessageStory } from './message-story.js';
export {
  DEFAULT_PAUSE_REASON,
  type DestinationOptions,
  type DestinationStatus,
  listDestinations,
  MAX_PAUSE_REASON_CHARS,
  pauseDestination,
  resumeDestination,
  retryDestinationNow,
} from './destinations.js';
export {
  applyDestinationPolicies,
  clearDestinationPolicy,
  type DestinationPolicyStatus,
  listDestinationPolicies,
  setDestinationPolicy,
  validateDestinationPolicies,
} from './destination-limits.js';
export { getStats, type OutboxStats } from './outbox-stats.js';
