import type http from 'node:http';
import type { Queryable } from '../../core/foundation/queryable.js';
import type { Relay } from '../../core/relay/relay.js';
import { StatusStore } from '../../core/store/index.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import { DeliveredMinutes } from './delivered-minutes.js';
import { FailureCounters } from './failure-counters.js';
import { STATUS_PAGE_HTML } from './page-html.js';
import { STATUS_PAGE_SCRIPT } from './page-script.js';
import { STATUS_PAGE_CSS } from './page-style.js';
import {
  readDeadGroups,
  readDestinations,
  readStatus,
  readThroughput,
  type StatusSources,
} from './status-report.js';

/**
 * The page loads its script and style from this relay only and talks to it only; nothing
 * inline runs, nothing can frame it, no form posts anywhere.
 */
export const STATUS_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** JSON is never a document: it may load nothing and be framed by nothing. */
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** What the status page reads from and how it checks the token. */
export interface StatusRoutesOptions {
  db: Queryable;
  schema: string;
  scheduler?: Scheduler;
  relay?: Relay;
  adminToken?: string;
  /** True when the request carries the admin token. */
  authorized(req: http.IncomingMessage): boolean;
}

/** The status page's GET routes. */
export interface StatusRoutes {
  /** Answers `path` if it is one of the status page's routes; false leaves it to the caller. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean>;
}

/** A small icon, so the browser's automatic /favicon.ico request is answered, not a 404 in its console. */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2e7d32"/><path d="M4 8h8M9 5l3 3-3 3" stroke="#fff" stroke-width="2" fill="none"/></svg>';

const ASSETS: Record<string, { body: string; type: string; csp: string }> = {
  '/favicon.svg': { body: FAVICON_SVG, type: 'image/svg+xml', csp: JSON_CSP },
  '/favicon.ico': { body: FAVICON_SVG, type: 'image/svg+xml', csp: JSON_CSP },
  '/': { body: STATUS_PAGE_HTML, type: 'text/html; charset=utf-8', csp: STATUS_PAGE_CSP },
  '/status.js': { body: STATUS_PAGE_SCRIPT, type: 'text/javascript; charset=utf-8', csp: JSON_CSP },
  '/status.css': { body: STATUS_PAGE_CSS, type: 'text/css; charset=utf-8', csp: JSON_CSP },
};

const READS: Record<string, (src: StatusSources) => Promise<unknown>> = {
  '/api/status': readStatus,
  '/api/destinations': readDestinations,
  '/api/throughput': readThroughput,
  '/api/dead/groups': readDeadGroups,
};

/**
 * The status page at `/` (a data-free shell, `/status.js`, `/status.css`) and the JSON it reads:
 * `/api/status`, `/api/destinations`, `/api/throughput`, `/api/dead/groups`. With an admin token
 * configured, every JSON route answers 401 without `Authorization: Bearer <token>`; the shell
 * and its assets hold no data and are served to anyone so the browser can show the login form.
 * Counts failed attempts of `relay` (this process) for the failure columns and chart.
 *
 * @example
 * const status = createStatusRoutes({ db, schema, relay, scheduler, adminToken, authorized });
 * if (await status.handle(req, res, path)) return;
 */
export function createStatusRoutes(options: StatusRoutesOptions): StatusRoutes {
  const failures = new FailureCounters();
  if (options.relay) failures.observe(options.relay);
  const sources: StatusSources = {
    db: options.db,
    schema: options.schema,
    failures,
    delivered: new DeliveredMinutes(new StatusStore(options.schema)),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.relay ? { relay: options.relay } : {}),
    actions: options.adminToken !== undefined,
  };
  return {
    async handle(req, res, path) {
      const asset = ASSETS[path];
      if (asset) {
        res
          .writeHead(200, {
            ...SECURITY_HEADERS,
            'content-type': asset.type,
            'content-security-policy': asset.csp,
          })
          .end(asset.body);
        return true;
      }
      const read = READS[path];
      if (!read) return false;
      const headers = {
        ...SECURITY_HEADERS,
        'content-type': 'application/json; charset=utf-8',
        'content-security-policy': JSON_CSP,
      };
      if (options.adminToken !== undefined && !options.authorized(req)) {
        res
          .writeHead(401, { ...headers, 'www-authenticate': 'Bearer' })
          .end(JSON.stringify({ error: 'unauthorized' }));
        return true;
      }
      const body = await read(sources);
      res.writeHead(200, headers).end(JSON.stringify(body));
      return true;
    },
  };
}
