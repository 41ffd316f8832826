import { OutboxError } from '../../core/foundation/errors.js';
import { listDestinations } from '../../core/maintenance/destinations.js';
import {
  type DestinationAction,
  describeDestinationResult,
  destinationRequest,
  runDestinationAction,
} from '../admin/destination-actions.js';
import { readJson, send } from './http-io.js';
import type { Route, RouteContext } from './route.js';

function act(action: DestinationAction): Route['handle'] {
  return async ({ req, res, state, log }: RouteContext) => {
    const request = destinationRequest(await readJson(req));
    try {
      const result = await runDestinationAction(state.db, state.schema, action, request);
      log.info({ action, ...request }, `admin: ${describeDestinationResult(action, result)}`);
      // Its messages are due now: this process's relay need not wait for its next poll.
      if (action !== 'pause') state.relay?.wake();
      send(res, 200, result);
    } catch (error) {
      if (error instanceof OutboxError && error.code === 'DESTINATION_PAUSED')
        return send(res, 409, { error: error.message, code: error.code });
      throw error;
    }
  };
}

/**
 * Destination flow control (docs/destinations.md): the list (every destination ever paused;
 * the status page's `/api/destinations` shows the paused state next to the counts) and pause,
 * resume and retry-now, all behind the admin token. Bodies are `{ destination, until?, reason? }`, `until` an
 * ISO date or a duration like `2h`.
 *
 * @example
 * findRoute(DESTINATION_ROUTES, 'POST', '/api/admin/destinations/pause');
 */
export const DESTINATION_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/admin/destinations',
    admin: true,
    async handle({ res, state }) {
      send(res, 200, { destinations: await listDestinations(state.db, { schema: state.schema }) });
    },
  },
  { method: 'POST', path: '/api/admin/destinations/pause', admin: true, handle: act('pause') },
  { method: 'POST', path: '/api/admin/destinations/resume', admin: true, handle: act('resume') },
  { method: 'POST', path: '/api/admin/destinations/retry-now', admin: true, handle: act('retry-now') },
];
