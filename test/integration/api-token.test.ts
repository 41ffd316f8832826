import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttpServer, startHttpServer } from '../../src/cli/http/http-server.js';
import { createMetrics } from '../../src/cli/http/metrics.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const ADMIN_TOKEN = 'api-admin-token-0123456789';
const METRICS_TOKEN = 'metrics-token-0123456789';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

async function serve(tokens: { adminToken?: string; metricsToken?: string }) {
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    db: t.db,
    schema: t.schema,
    logger: NOOP_LOGGER,
    metrics: createMetrics({ db: t.db, schema: t.schema, defaultMetrics: false }),
    ...tokens,
  });
  return { server, base: `http://127.0.0.1:${server.port}` };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('with ADMIN_TOKEN and METRICS_TOKEN', () => {
  let server: RunningHttpServer;
  let base: string;
  beforeAll(async () => {
    ({ server, base } = await serve({ adminToken: ADMIN_TOKEN, metricsToken: METRICS_TOKEN }));
  });
  afterAll(() => server.close());

  it('answers 401 on every /api/* read without the admin token, known route or not', async () => {
    for (const path of ['/api/stats', '/api/jobs/status', '/api/admin/outbox/stats', '/api/no-such-route']) {
      for (const headers of [{}, bearer('wrong-token-wrong-token'), bearer(METRICS_TOKEN)]) {
        const res = await fetch(base + path, { headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    const stats = await fetch(`${base}/api/stats`, { headers: bearer(ADMIN_TOKEN) });
    expect(stats.status).toBe(200);
  });

  it('keeps /healthz and /readyz open, and /metrics behind its own token only', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: bearer(ADMIN_TOKEN) })).status).toBe(401);
    const metrics = await fetch(`${base}/metrics`, { headers: bearer(METRICS_TOKEN) });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('outbox_pending_messages');
  });
});

describe('with ADMIN_TOKEN only', () => {
  it('serves /metrics to anyone', async () => {
    const { server, base } = await serve({ adminToken: ADMIN_TOKEN });
    try {
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      expect((await fetch(`${base}/api/stats`)).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
