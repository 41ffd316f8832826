import { describeError } from '../../core/foundation/errors.js';
import { LATEST_MIGRATION_VERSION, readSchemaState, schemaFit } from '../../core/migrations/index.js';
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
        const schemaState = await readSchemaState(state.db, { schema: state.schema });
        const fit = schemaFit(schemaState);
        if (fit === 'too_old' || fit === 'too_new') {
          const fix =
            fit === 'too_old'
              ? 'run outbox-relay migrate'
              : 'a later release migrated it in a way this one cannot claim from: replace this process with that release';
          return send(res, 503, {
            status: 'not ready',
            reason: `schema at version ${schemaState.version}, expected ${LATEST_MIGRATION_VERSION}: ${fix}`,
          });
        }
        return send(res, 200, { status: 'ready', schemaVersion: schemaState.version });
      } catch (error) {
        return send(res, 503, {
          status: 'not ready',
          reason: `database unreachable: ${describeError(error)}`,
        });
      }
    },
  },
];
