import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../src/cli/http/http-server.js';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { RecordingPublisher } from '../support/recording-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { serveTestDatabase } from '../support/test-http-server.js';

const ADMIN_TOKEN = 'api-admin-token-0123456789';
const METRICS_TOKEN = 'metrics-token-0123456789';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

const serve = (tokens: { adminToken?: string; metricsToken?: string }) => serveTestDatabase(t, tokens);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('with ADMIN_TOKEN and METRICS_TOKEN', () => {
  let server: RunningHttpServer;
  let base: string;
  beforeAll(async () => {
    ({ server, base } = await serve({ adminToken: ADMIN_TOKEN, metricsToken: METRICS_TOKEN }));
  });
  afterAll(() => server.close());

  it('answers 401 on every /api/* read without the admin token, known route or not', async () => {
    for (const path of [
      '/api/stats',
      '/api/jobs/status',
      '/api/admin/outbox/stats',
      '/api/attempts',
      '/api/attempts?destination=webhook&since=1h',
      '/api/messages/42',
      '/api/no-such-route',
    ]) {
      for (const headers of [{}, bearer('wrong-token-wrong-token'), bearer(METRICS_TOKEN)]) {
        const res = await fetch(base + path, { headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    const stats = await fetch(`${base}/api/stats`, { headers: bearer(ADMIN_TOKEN) });
    expect(stats.status).toBe(200);
  });

  it('serves the attempt log and a message story with the admin token, never the payload', async () => {
    const [message] = await createOutbox({ schema: t.schema }).addMany(t.db, [
      { type: 'api.story', destination: 'default', payload: { secret: 'payload-must-not-show' } },
    ]);
    await createRelay({
      db: t.db,
      schema: t.schema,
      logger: NOOP_LOGGER,
      maxAttempts: 1,
      publishers: {
        default: new RecordingPublisher('p', () => Promise.reject(new TransientPublishError('down'))),
      },
    }).runOnce();
    const get = (path: string) => fetch(base + path, { headers: bearer(ADMIN_TOKEN) });
    const attempts = await get(`/api/attempts?destination=default&since=1h&limit=5`);
    expect(attempts.status).toBe(200);
    const body = (await attempts.json()) as { attempts: { messageId: string; outcome: string }[] };
    expect(body.attempts).toEqual([expect.objectContaining({ messageId: message, outcome: 'transient' })]);
    const story = await get(`/api/messages/${message}`);
    expect(story.status).toBe(200);
    const text = await story.text();
    expect(text).not.toContain('payload-must-not-show');
    expect(JSON.parse(text)).toMatchObject({
      message: { messageId: message, type: 'api.story' },
      state: { kind: 'dead', reason: 'max_attempts' },
      attempts: [{ outcome: 'transient' }],
    });
    expect((await get('/api/messages/00000000-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await get('/api/attempts?since=yesterday')).status).toBe(400);
    expect((await get('/api/attempts?message=42')).status).toBe(400);
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
