/**
 * Test helpers that ship with outbox-relay, for your own tests and demos: an embedded
 * PostgreSQL and a fake MikroTik router that speaks the real RouterOS API wire protocol.
 *
 * @example
 * import { startEmbeddedPostgres, startFakeRouter } from 'outbox-relay/testing';
 * const router = await startFakeRouter({ users: { api: 'pw' } });
 */
export {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from './embedded-postgres.js';
export { EmbeddedPostgresError, type EmbeddedPostgresErrorCode } from './embedded-postgres-error.js';
export * from './fake-router/index.js';
