import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaults } from '../../src/cli/config/load-config.js';
import type { RunningHttpServer } from '../../src/cli/http/http-server.js';
import { createCliScheduler } from '../../src/cli/runtime/cli-jobs.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import type { Scheduler } from '../../src/jobs/scheduler.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingLogger } from '../support/publisher-contract.js';
import { RecordingPublisher } from '../support/recording-publisher.js';
import { serveTestDatabase } from '../support/test-http-server.js';

const ADMIN_TOKEN = 'seed-names-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

let t: TestDatabase;
let server: RunningHttpServer;
let scheduler: Scheduler;
let base: string;
const logger = recordingLogger();
const publisher = new RecordingPublisher('console');

beforeAll(async () => {
  t = await createTestDatabase();
  const config = { ...defaults({ isTty: false }), schema: t.schema };
  scheduler = createCliScheduler(config, {
    db: t.db,
    logger,
    publishers: async () => ({ console: publisher }),
  });
  ({ server, base } = await serveTestDatabase(t, { logger: recordingLogger(), adminToken: ADMIN_TOKEN }));
  server.attach({ scheduler });
});
afterAll(async () => {
  await server.close();
  await scheduler.stop();
  await t.close();
});

const post = (path: string) => fetch(base + path, { method: 'POST', headers: auth });

describe("seed 004's job names and routes", () => {
  it('runs `outbox` as the relay job and `retry` as retry-dead through the admin route', async () => {
    await createOutbox({ schema: t.schema }).add(t.db, {
      type: 'seed.test',
      destination: 'console',
      payload: {},
    });
    const outbox = await post('/api/admin/jobs/run/outbox');
    expect(outbox.status).toBe(200);
    expect(await outbox.json()).toMatchObject({ status: 'succeeded', result: { delivered: 1 } });
    expect(publisher.calls).toHaveLength(1);
    const retry = await post('/api/admin/jobs/run/retry');
    expect(await retry.json()).toMatchObject({ status: 'succeeded', result: { replayed: 0 } });
    // Recorded under the job's own name.
    const runs = await t.pool.query(`select job_name from "${t.schema}".job_runs order by id`);
    expect(runs.rows.map((r) => r.job_name)).toEqual(['relay', 'retry-dead']);
  });

  it('answers /api/jobs/status with enabled and each job’s name, cron, running and aliases', async () => {
    const body = (await (await fetch(`${base}/api/jobs/status`, { headers: auth })).json()) as {
      enabled: boolean;
      jobs: Array<{ name: string; cron: string | null; running: boolean; aliases: string[] }>;
    };
    expect(body.enabled).toBe(true);
    const relay = body.jobs.find((j) => j.name === 'relay')!;
    expect(relay).toMatchObject({ cron: null, running: false, aliases: ['outbox'] });
    expect(body.jobs.find((j) => j.name === 'retry-dead')?.aliases).toEqual(['retry']);
    const status = (await (await fetch(`${base}/api/status`, { headers: auth })).json()) as {
      jobs: { list: Array<{ name: string; aliases: string[] }> };
    };
    expect(status.jobs.list.find((j) => j.name === 'relay')?.aliases).toEqual(['outbox']);
  });

  it('serves the outbox troubleshooting routes behind the admin token', async () => {
    for (const [method, path] of [
      ['POST', '/api/admin/outbox/process'],
      ['POST', '/api/admin/outbox/cleanup'],
      ['GET', '/api/admin/outbox/stats'],
    ] as const) {
      expect((await fetch(base + path, { method })).status, path).toBe(401);
      const ok = await fetch(base + path, { method, headers: auth });
      expect(ok.status, path).toBe(200);
    }
    const stats = (await (await fetch(`${base}/api/admin/outbox/stats`, { headers: auth })).json()) as object;
    expect(stats).toEqual(await (await fetch(`${base}/api/stats`, { headers: auth })).json());
    const cleanup = (await (await post('/api/admin/outbox/cleanup')).json()) as { job: string };
    expect(cleanup.job).toBe('cleanup');
  });

  it('logs one summary line per run with its counts as fields and words', async () => {
    const line = logger.lines.find((l) => l.msg?.startsWith('[Job:relay] succeeded'));
    expect(line?.msg).toMatch(
      /^\[Job:relay\] succeeded: claimed 1, delivered 1, retried 0, dead 0, rounds \d+ \(\d+ ms\)$/,
    );
    expect(line?.obj).toMatchObject({ job: 'relay', claimed: 1, delivered: 1, retried: 0, dead: 0 });
  });
});

describe('/api/jobs/status without a scheduler', () => {
  it('says enabled: false', async () => {
    const { server: bare, base: bareBase } = await serveTestDatabase(t, { logger: recordingLogger() });
    try {
      const res = await fetch(`${bareBase}/api/jobs/status`);
      expect(await res.json()).toMatchObject({ enabled: false, jobs: [] });
    } finally {
      await bare.close();
    }
  });
});
