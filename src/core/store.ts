/**
 * The store: every SQL statement of the outbox, in one module. The hot path (inserts, claim,
 * write-backs, release) is in store/outbox-store.ts, dead letters in store/dead-letter-store.ts,
 * cleanup and stats in store/maintenance-store.ts; each statement names the index it uses.
 * Times in those statements are the database's (store/database-time.ts).
 */
export { nowSql } from './store/database-time.js';
export { type DeadFilter, DeadLetterStore } from './store/dead-letter-store.js';
export { MaintenanceStore, type OutboxStats } from './store/maintenance-store.js';
export {
  type ClaimArgs,
  type ClaimedRow,
  type ClaimRoutes,
  type FailedRow,
  type InsertRow,
  OutboxStore,
} from './store/outbox-store.js';
export { preparedRunner } from './store/prepared-runner.js';
export { type DeadReason, type StoredMessage, toStoredMessage } from './store/stored-message.js';
