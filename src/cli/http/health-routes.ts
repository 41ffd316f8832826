import { describeError } from '../../core/foundation/errors.js';
import { LATEST_MIGRATION_VERSION, schemaVersion } from '../../core/migrations/index.js';
import { send } from './http-io.js';
import type { Route } from './route.js';

/**
 * Liveness and readiness: `/healthz` answers while the process runs; `/readyz` only once the
 * database answers with the schema this build needs. Never behind a token: orchestrators probe them.
 *
 * @example
 * findRoute(HEALTH_ROUTES, 'GET', '/readyz');
 */
export const HEALTH_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/healthz', handle: ({ res }) => send(res, 200, { status: 'ok' }) },
  {
    method: 'GET',
    path: '/readyz',
    async handle({ res, state }) {
      const notReady = state.notReadyReason?.();
      if (notReady !== undefined) return send(res, 503, { status: 'not ready', reason: notReady });
      try {
        const version = await schemaVersion(state.db, { schema: state.schema });
        if (version !== LATEST_MIGRATION_VERSION) {
          const fix =
            version < LATEST_MIGRATION_VERSION
              ? 'run outbox-relay migrate'
              : 'a later release migrated it: replace this process with that release';
          return send(res, 503, {
            status: 'not ready',
            reason: `schema at version ${version}, expected ${LATEST_MIGRATION_VERSION}: ${fix}`,
          });
        }
        return send(res, 200, { status: 'ready', schemaVersion: version });
      } catch (error) {
        return send(res, 503, {
          status: 'not ready',
          reason: `database unreachable: ${describeError(error)}`,
        });
      }
    },
  },
];
