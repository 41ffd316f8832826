import type http from 'node:http';
import type { Logger } from '../../core/foundation/logger.js';
import type { Queryable } from '../../core/foundation/queryable.js';
import type { Relay } from '../../core/relay/index.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import type { RelayMetrics } from './metrics.js';

/** What the routes serve from; `relay` and `scheduler` arrive once they run (see `attach`). */
export interface HttpServerState {
  db: Queryable;
  schema: string;
  logger: Logger;
  metrics: RelayMetrics;
  scheduler?: Scheduler;
  relay?: Relay;
  /** Admin routes are off without it. */
  adminToken?: string;
  /** When set, `/metrics` answers only with `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** Why the process is not ready yet (e.g. still waiting for the database); undefined once it is. */
  notReadyReason?: () => string | undefined;
}

/** One request as a route sees it. */
export interface RouteContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The path's captures when the route's path is a RegExp. */
  params: readonly string[];
  state: HttpServerState;
  log: Logger;
}

/**
 * One HTTP route: a method, a path (exact, or a RegExp whose captures become `params`) and its
 * handler. `admin` routes answer only with the admin token.
 *
 * @example
 * const health: Route = { method: 'GET', path: '/healthz', handle: ({ res }) => send(res, 200, { status: 'ok' }) };
 */
export interface Route {
  method: 'GET' | 'POST';
  path: string | RegExp;
  admin?: boolean;
  handle(ctx: RouteContext): Promise<void> | void;
}

/**
 * Whether `path` is under `/api/`: with an admin token configured, every such route (reads
 * included, known or not) answers 401 without it (design.md section 9). Health and metrics are
 * outside `/api/` so probes and scrapers never need it.
 *
 * @example
 * underApi('/api/stats') // true
 */
export function underApi(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/**
 * The route of `method` and `path` in `routes`, with its captures; HEAD is served by GET routes.
 *
 * @example
 * const found = findRoute(ROUTES, 'GET', '/healthz');
 */
export function findRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: string[] } | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  for (const route of routes) {
    if (route.method !== m) continue;
    if (typeof route.path === 'string') {
      if (route.path === path) return { route, params: [] };
    } else {
      const match = route.path.exec(path);
      if (match) return { route, params: match.slice(1).map((p) => decodeURIComponent(p)) };
    }
  }
  return undefined;
}
