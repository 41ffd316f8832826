import {
  type HttpServerOptions,
  type RunningHttpServer,
  startHttpServer,
} from '../../src/cli/http/http-server.js';
import { createMetrics } from '../../src/cli/http/metrics.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import type { TestDatabase } from './database.js';

/**
 * The binary's HTTP server on a free loopback port, serving the test database's schema with
 * metrics (no default Node metrics) and a silent logger unless `options` says otherwise.
 *
 * @example
 * const { server, base } = await serveTestDatabase(t, { adminToken: 'x'.repeat(24) });
 * await fetch(`${base}/api/status`); await server.close();
 */
export async function serveTestDatabase(
  t: TestDatabase,
  options: Partial<HttpServerOptions> = {},
): Promise<{ server: RunningHttpServer; base: string }> {
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    db: t.db,
    schema: t.schema,
    logger: NOOP_LOGGER,
    metrics: createMetrics({ db: t.db, schema: t.schema, defaultMetrics: false }),
    ...options,
  });
  return { server, base: `http://127.0.0.1:${server.port}` };
}
