import { timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, OutboxValidationError } from '../../core/foundation/errors.js';
import type { DeadSelector } from '../../core/maintenance/dead-letters.js';
import { purgeDead, replayDead } from '../../core/maintenance/dead-letters.js';
import type { Logger } from '../../core/foundation/logger.js';
import { LATEST_MIGRATION_VERSION, schemaVersion } from '../../core/migrations/migrate.js';
import { getStats } from '../../core/maintenance/outbox-stats.js';
import { splitMessageRefs } from '../../core/maintenance/parse-message-ref.js';
import type { Queryable } from '../../core/foundation/queryable.js';
import type { Relay } from '../../core/relay/relay.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import type { RelayMetrics } from './metrics.js';
import { actOnDeadGroup, createStatusRoutes, deadGroupOf } from '../status-page/status-routes.js';

/** Largest admin request body accepted. */
const MAX_BODY_BYTES = 64 * 1024;

/** What the HTTP endpoint serves from. */
export interface HttpServerOptions {
  port: number;
  host: string;
  db: Queryable;
  schema: string;
  logger: Logger;
  metrics: RelayMetrics;
  scheduler?: Scheduler;
  relay?: Relay;
  /** Admin POST routes are off without it. */
  adminToken?: string;
  /** Why the process is not ready yet (e.g. still waiting for the database); undefined once it is. */
  notReadyReason?: () => string | undefined;
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

/**
 * Compares a presented bearer token with the configured one in constant time. Both are
 * hashed first so the comparison never leaks the token's length either.
 *
 * @example
 * tokenMatches('Bearer s3cret-token-123456', 's3cret-token-123456') // true
 */
function tokenMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}

function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(text);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new OutboxValidationError('body', `must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OutboxValidationError('body', 'must be JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new OutboxValidationError('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

function replaySelector(body: Record<string, unknown>): DeadSelector {
  const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  const ids = Array.isArray(body.ids) ? body.ids.map(String) : undefined;
  const since = text('since');
  if (since !== undefined && Number.isNaN(new Date(since).getTime()))
    throw new OutboxValidationError('since', 'must be an ISO date');
  const selector: DeadSelector = {
    ...(ids ? splitMessageRefs(ids, 'ids') : {}),
    ...(text('type') ? { type: text('type')! } : {}),
    ...(text('destination') ? { destination: text('destination')! } : {}),
    ...(text('tenantId') ? { tenantId: text('tenantId')! } : {}),
    ...(since ? { since: new Date(since) } : {}),
    ...(body.all === true ? { all: true } : {}),
  };
  return selector;
}

/**
 * Starts the health, metrics, status and admin endpoint on node:http.
 * GET /healthz, /readyz, /metrics, /api/jobs/status, /api/stats, and the status page (`/` and its
 * JSON, see status-page/status-routes.ts); POST /api/admin/jobs/run/:jobName, /api/admin/dead/replay
 * and /api/admin/dead/purge with `Authorization: Bearer <ADMIN_TOKEN>`.
 *
 * @example
 * const server = await startHttpServer({ port: 9090, host: '0.0.0.0', db, schema, logger, metrics });
 */
export async function startHttpServer(given: HttpServerOptions): Promise<RunningHttpServer> {
  const options = { ...given };
  const log = options.logger.child({ component: 'http' });
  const statusRoutes = () =>
    createStatusRoutes({
      db: options.db,
      schema: options.schema,
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      ...(options.relay ? { relay: options.relay } : {}),
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
      authorized: (req) =>
        options.adminToken !== undefined && tokenMatches(req.headers.authorization, options.adminToken),
    });
  let status = statusRoutes();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (await status.handle(req, res, path)) return;
        if (path === '/healthz') return send(res, 200, { status: 'ok' });
        if (path === '/readyz') {
          const notReady = options.notReadyReason?.();
          if (notReady !== undefined) return send(res, 503, { status: 'not ready', reason: notReady });
          try {
            const version = await schemaVersion(options.db, { schema: options.schema });
            if (version < LATEST_MIGRATION_VERSION) {
              return send(res, 503, {
                status: 'not ready',
                reason: `schema at version ${version}, expected ${LATEST_MIGRATION_VERSION}: run outbox-relay migrate`,
              });
            }
            return send(res, 200, { status: 'ready', schemaVersion: version });
          } catch (error) {
            return send(res, 503, {
              status: 'not ready',
              reason: `database unreachable: ${describeError(error)}`,
            });
          }
        }
        if (path === '/metrics')
          return send(res, 200, await options.metrics.render(), options.metrics.registry.contentType);
        if (path === '/api/jobs/status') {
          if (!options.scheduler)
            return send(res, 404, {
              error: 'jobs are not running in this process (WORKER_MODE/ENABLE_JOBS)',
            });
          return send(res, 200, { jobs: await options.scheduler.status() });
        }
        if (path === '/api/stats')
          return send(res, 200, await getStats(options.db, { schema: options.schema }));
        return send(res, 404, { error: 'not found' });
      }
      if (req.method === 'POST' && path.startsWith('/api/admin/')) {
        if (!options.adminToken)
          return send(res, 404, { error: 'admin routes are off: set ADMIN_TOKEN to enable them' });
        if (!tokenMatches(req.headers.authorization, options.adminToken)) {
          log.warn({ path, remote: req.socket.remoteAddress }, 'admin request with a missing or wrong token');
          res.setHeader('www-authenticate', 'Bearer');
          return send(res, 401, { error: 'unauthorized' });
        }
        const jobMatch = /^\/api\/admin\/jobs\/run\/([^/]+)$/.exec(path);
        if (jobMatch) {
          const name = decodeURIComponent(jobMatch[1]!);
          if (!options.scheduler)
            return send(res, 404, {
              error: 'jobs are not running in this process (WORKER_MODE/ENABLE_JOBS)',
            });
          if (!options.scheduler.has(name))
            return send(res, 404, { error: `no job named "${name}"`, jobs: options.scheduler.names });
          log.info({ job: name }, 'admin: running job');
          const outcome = await options.scheduler.runOnce(name);
          return send(res, outcome.status === 'skipped' ? 409 : outcome.status === 'failed' ? 500 : 200, {
            job: name,
            ...outcome,
          });
        }
        if (path === '/api/admin/dead/replay') {
          const body = await readJson(req);
          // { destination, reason }: one dead-letter group of the status page.
          const group = deadGroupOf(body);
          const result = group
            ? await actOnDeadGroup(options.db, options.schema, group, 'replay')
            : await replayDead(options.db, replaySelector(body), { schema: options.schema });
          log.info({ ...result, ...group }, 'admin: replayed dead messages');
          options.relay?.wake();
          return send(res, 200, result);
        }
        if (path === '/api/admin/dead/purge') {
          const body = await readJson(req);
          const group = deadGroupOf(body);
          const result = group
            ? await actOnDeadGroup(options.db, options.schema, group, 'purge')
            : await purgeDead(options.db, replaySelector(body), { schema: options.schema });
          log.info({ ...result, ...group }, 'admin: purged dead messages');
          return send(res, 200, result);
        }
        return send(res, 404, { error: 'not found' });
      }
      return send(res, 405, { error: 'method not allowed' });
    } catch (error) {
      if (error instanceof OutboxValidationError) return send(res, 400, { error: error.message });
      log.error({ path, err: describeError(error) }, 'request failed');
      if (!res.headersSent) send(res, 500, { error: describeError(error) });
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, host: options.host, admin: options.adminToken ? 'on' : 'off' }, 'HTTP endpoint listening');
  return {
    port,
    attach(parts) {
      if (parts.relay) options.relay = parts.relay;
      if (parts.scheduler) options.scheduler = parts.scheduler;
      status = statusRoutes();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
