import { send } from './http-io.js';
import type { Route } from './route.js';

/**
 * Prometheus text at `/metrics`.
 *
 * @example
 * findRoute(METRICS_ROUTES, 'GET', '/metrics');
 */
export const METRICS_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/metrics',
    async handle({ res, state }) {
      send(res, 200, await state.metrics.render(), state.metrics.registry.contentType);
    },
  },
];
