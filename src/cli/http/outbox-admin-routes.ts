import { getStats } from '../../core/maintenance/index.js';
import { runJobRoute } from './admin-routes.js';
import { send } from './http-io.js';
import type { Route } from './route.js';

/**
 * Seed 004's outbox troubleshooting routes, mapped onto the one implementation (design.md
 * section 9: aliases, not forks): process = run the `relay` job now, cleanup = run the
 * `cleanup` job now, stats = `GET /api/stats`. Admin routes: they need ADMIN_TOKEN.
 *
 * @example
 * findRoute(OUTBOX_ADMIN_ROUTES, 'POST', '/api/admin/outbox/process');
 */
export const OUTBOX_ADMIN_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/admin/outbox/process',
    admin: true,
    handle: (ctx) => runJobRoute(ctx, 'relay'),
  },
  {
    method: 'POST',
    path: '/api/admin/outbox/cleanup',
    admin: true,
    handle: (ctx) => runJobRoute(ctx, 'cleanup'),
  },
  {
    method: 'GET',
    path: '/api/admin/outbox/stats',
    admin: true,
    async handle({ res, state }) {
      send(res, 200, await getStats(state.db, { schema: state.schema }));
    },
  },
];
