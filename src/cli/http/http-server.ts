import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, OutboxValidationError } from '../../core/foundation/errors.js';
import type { Relay } from '../../core/relay/index.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import { createStatusRoutes } from '../status-page/status-routes.js';
import { ADMIN_ROUTES } from './admin-routes.js';
import { ATTEMPT_ROUTES } from './attempt-routes.js';
import { DESTINATION_ROUTES } from './destination-routes.js';
import { LIMIT_ROUTES } from './limit-routes.js';
import { HEALTH_ROUTES } from './health-routes.js';
import { send, tokenMatches } from './http-io.js';
import { METRICS_ROUTES } from './metrics-routes.js';
import { OUTBOX_ADMIN_ROUTES } from './outbox-admin-routes.js';
import { findRoute, type HttpServerState, type Route, underApi } from './route.js';

/** What the HTTP endpoint serves from. */
export interface HttpServerOptions extends HttpServerState {
  port: number;
  host: string;
}

/** A running endpoint. */
export interface RunningHttpServer {
  readonly port: number;
  /**
   * Adds the relay and the scheduler once they run: `start` listens before the database
   * answers (so /healthz and /readyz do), and creates them only after.
   */
  attach(parts: { relay?: Relay; scheduler?: Scheduler }): void;
  close(): Promise<void>;
}

/** Every route but the status page's, by concern. */
const ROUTES: readonly Route[] = [
  ...HEALTH_ROUTES,
  ...METRICS_ROUTES,
  ...ADMIN_ROUTES,
  ...OUTBOX_ADMIN_ROUTES,
  ...ATTEMPT_ROUTES,
  ...DESTINATION_ROUTES,
  ...LIMIT_ROUTES,
];

/**
 * Starts the health, metrics, status and admin endpoint on node:http.
 * With an admin token, every `/api/*` route (reads included) needs it; /healthz, /readyz and
 * /metrics needs only METRICS_TOKEN when that is set (metrics-routes.ts).
 * GET /healthz, /readyz (health-routes.ts), /metrics (metrics-routes.ts), /api/jobs/status,
 * /api/stats, /api/attempts and /api/messages/:id (attempt-routes.ts) and POST /api/admin/jobs/run/:jobName, /api/admin/dead/replay and
 * /api/admin/dead/purge with `Authorization: Bearer <ADMIN_TOKEN>` (admin-routes.ts), and the
 * status page (`/` and its JSON, status-page/status-routes.ts).
 *
 * @example
 * const server = await startHttpServer({ port: 9090, host: '0.0.0.0', db, schema, logger, metrics });
 */
export async function startHttpServer(given: HttpServerOptions): Promise<RunningHttpServer> {
  const state: HttpServerState = { ...given };
  const log = state.logger.child({ component: 'http' });
  const authorized = (req: http.IncomingMessage) =>
    state.adminToken !== undefined && tokenMatches(req.headers.authorization, state.adminToken);
  const statusRoutes = () =>
    createStatusRoutes({
      db: state.db,
      schema: state.schema,
      ...(state.scheduler ? { scheduler: state.scheduler } : {}),
      ...(state.relay ? { relay: state.relay } : {}),
      ...(state.adminToken ? { adminToken: state.adminToken } : {}),
      authorized,
    });
  let status = statusRoutes();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    try {
      const read = method === 'GET' || method === 'HEAD';
      // Every /api/admin/ path, reads too (seed 004's GET /api/admin/outbox/stats), is an admin route.
      const admin = path.startsWith('/api/admin/');
      if (!read && !(admin && method === 'POST')) return send(res, 405, { error: 'method not allowed' });
      if (read && (await status.handle(req, res, path))) return;
      if (admin) {
        // Checked before the route is looked up: without the token, no admin path is revealed.
        if (!state.adminToken)
          return send(res, 404, { error: 'admin routes are off: set ADMIN_TOKEN to enable them' });
        if (!authorized(req)) {
          log.warn({ path, remote: req.socket.remoteAddress }, 'admin request with a missing or wrong token');
          res.setHeader('www-authenticate', 'Bearer');
          return send(res, 401, { error: 'unauthorized' });
        }
      } else if (state.adminToken !== undefined && underApi(path) && !authorized(req)) {
        res.setHeader('www-authenticate', 'Bearer');
        return send(res, 401, { error: 'unauthorized' });
      }
      const found = findRoute(ROUTES, method, path);
      if (!found) return send(res, 404, { error: 'not found' });
      await found.route.handle({ req, res, params: found.params, state, log });
    } catch (error) {
      if (error instanceof OutboxValidationError) return send(res, 400, { error: error.message });
      log.error({ path, err: describeError(error) }, 'request failed');
      if (!res.headersSent) send(res, 500, { error: describeError(error) });
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(given.port, given.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, host: given.host, admin: state.adminToken ? 'on' : 'off' }, 'HTTP endpoint listening');
  return {
    port,
    attach(parts) {
      if (parts.relay) state.relay = parts.relay;
      if (parts.scheduler) state.scheduler = parts.scheduler;
      status = statusRoutes();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
