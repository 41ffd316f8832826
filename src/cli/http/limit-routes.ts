import { OutboxValidationError } from '../../core/foundation/errors.js';
import { policyOf, runLimitAction } from '../admin/destination-limit-actions.js';
import { readJson, send } from './http-io.js';
import type { Route, RouteContext } from './route.js';

function act(action: 'set' | 'unset'): Route['handle'] {
  return async ({ req, res, state, log }: RouteContext) => {
    const body = await readJson(req);
    const { pattern } = body;
    if (typeof pattern !== 'string' || pattern === '')
      throw new OutboxValidationError('pattern', 'is required (webhook:acme, webhook:* or tenant:acme)');
    const policy = action === 'set' ? policyOf(body) : {};
    const said = await runLimitAction(state.db, state.schema, action, pattern, policy);
    log.info({ action, pattern, ...policy }, `admin: ${said}`);
    // Cleared: its throttled messages are due now, this process's relay need not wait.
    if (action === 'unset') state.relay?.wake();
    send(res, 200, { pattern, result: said });
  };
}

/**
 * Rate limits and concurrency caps (docs/destinations.md), behind the admin token:
 * `POST /api/admin/destinations/limit` `{ pattern, rate?, burst?, maxInFlight? }` sets one for
 * every relay, `POST /api/admin/destinations/unlimit` `{ pattern }` removes it. The limits are
 * listed by `GET /api/admin/destinations` (each destination's `limit`).
 *
 * @example
 * findRoute(LIMIT_ROUTES, 'POST', '/api/admin/destinations/limit');
 */
export const LIMIT_ROUTES: readonly Route[] = [
  { method: 'POST', path: '/api/admin/destinations/limit', admin: true, handle: act('set') },
  { method: 'POST', path: '/api/admin/destinations/unlimit', admin: true, handle: act('unset') },
];
