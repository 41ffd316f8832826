import { send, tokenMatches } from './http-io.js';
import type { Route } from './route.js';

/**
 * Prometheus text at `/metrics`: open, or behind its own bearer token (METRICS_TOKEN) so a
 * scraper never holds the admin token.
 *
 * @example
 * findRoute(METRICS_ROUTES, 'GET', '/metrics');
 */
export const METRICS_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/metrics',
    async handle({ req, res, state }) {
      if (state.metricsToken !== undefined && !tokenMatches(req.headers.authorization, state.metricsToken)) {
        res.setHeader('www-authenticate', 'Bearer');
        return send(res, 401, { error: 'unauthorized' });
      }
      send(res, 200, await state.metrics.render(), state.metrics.registry.contentType);
    },
  },
];
