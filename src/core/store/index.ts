/**
 * The store: every SQL statement of the outbox outside migrations, in one folder. The hot path
 * (inserts, claim, parking, write-backs, release) is in hot-path-sql.ts, run by outbox-store.ts;
 * dead letters in dead-letter-store.ts, cleanup and stats in maintenance-store.ts, the status
 * page's reads in status-store.ts. Each statement names the index it uses. The columns, the
 * "unfinished" predicate and the dead reasons are declared once (message-columns.ts,
 * dead-reason.ts); times are the database's (database-time.ts).
 *
 * @example
 * import { OutboxStore } from '../store/index.js';
 */
export {
  ATTEMPT_OUTCOMES,
  type AttemptOutcome,
  type AttemptQuery,
  type AttemptRecord,
  type AttemptRow,
  AttemptStore,
  MAX_ATTEMPT_DETAIL_BYTES,
} from './attempt-store.js';
export { nowSql } from './database-time.js';
export { asDeadReason, DEAD_REASONS, type DeadReason, UNKNOWN_DEAD_REASON } from './dead-reason.js';
export { type DeadFilter, DeadLetterStore } from './dead-letter-store.js';
export { type BreakerState, type DestinationRow, DestinationStore } from './destination-store.js';
export {
  type DestinationLimitRow,
  DestinationLimitStore,
  type RefilledLimit,
} from './destination-limit-store.js';
export { type LimitKind, THROTTLED_AT_SQL } from './limit-sql.js';
export { MaintenanceStore, type OutboxStats } from './maintenance-store.js';
export { STORED_COLUMNS, unfinished } from './message-columns.js';
export {
  type ClaimArgs,
  type ClaimedRow,
  type ClaimRoutes,
  type DeliveredRecord,
  type FailedRow,
  type InsertRow,
  OutboxStore,
  type DeliveredRows,
  type WrittenRow,
} from './outbox-store.js';
export { preparedRunner } from './prepared-runner.js';
export {
  type DeadGroupRow,
  type MessagePlaceRow,
  type MinuteCountRow,
  type OpenDestinationRow,
  APPLICATION_NAME_PREFIX,
  type SeenWorkerRow,
  STATUS_ERROR_MAX_CHARS,
  StatusStore,
  UNSERVED_COUNT_LIMIT,
  type UnservedRouteRow,
} from './status-store.js';
export { type StoredMessage, toStoredMessage } from './stored-message.js';
