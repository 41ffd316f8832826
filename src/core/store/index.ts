/**
 * The store: every SQL statement of the outbox, in one module. The hot path (inserts, claim,
 * write-backs, release) is in store/outbox-store.ts, dead letters in store/dead-letter-store.ts,
 * cleanup and stats in store/maintenance-store.ts; each statement names the index it uses.
 * Times in those statements are the database's (store/database-time.ts).
 */
export { nowSql } from './database-time.js';
export { type DeadFilter, DeadLetterStore } from './dead-letter-store.js';
export { MaintenanceStore, type OutboxStats } from './maintenance-store.js';
export {
  type ClaimArgs,
  type ClaimedRow,
  type ClaimRoutes,
  type FailedRow,
  type InsertRow,
  OutboxStore,
} from './outbox-store.js';
export { preparedRunner } from './prepared-runner.js';
export { type DeadReason, type StoredMessage, toStoredMessage } from './stored-message.js';
