import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';
import { type CliProcess, runCli, spawnCli } from './cli-process.js';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

async function counts(
  t: TestDatabase,
): Promise<Record<'pending' | 'in_flight' | 'delivered' | 'dead', number>> {
  const { rows } = await t.pool.query(
    `select status, count(*)::int as n from "${t.schema}".all_messages group by status`,
  );
  const out = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
  for (const r of rows) out[r.status as keyof typeof out] = r.n;
  return out;
}

function env(t: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: t.url, OUTBOX_SCHEMA: t.schema, LOG_LEVEL: 'info', ...extra };
}

/** Sums a Prometheus counter's samples from the text format. */
function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    if (m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

describe('outbox-relay start', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.close());

  it('delivers, and SIGTERM mid-flow exits 0 with nothing lost or stuck in flight', async () => {
    const total = 3000;
    expect((await runCli(['publish', '--count', String(total), '--type', 'e2e.burst'], env(t))).code).toBe(0);
    const p = spawnCli(['start'], env(t, { BATCH_SIZE: '20', CONCURRENCY: '4', ENABLE_JOBS: 'false' }));
    await waitFor(async () => (await counts(t)).delivered > 100, 'first deliveries');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const after = await counts(t);
    expect(after.in_flight).toBe(0);
    expect(after.pending).toBeGreaterThan(0); // it really was stopped mid-flow
    expect(after.pending + after.delivered).toBe(total);
    // What was left is still deliverable: nothing was lost.
    expect((await runCli(['run', '--drain'], env(t))).code).toBe(0);
    expect(await counts(t)).toMatchObject({ delivered: total, pending: 0, in_flight: 0, dead: 0 });
  });

  it('serves /metrics whose counters match the deliveries, and guards the admin routes', async () => {
    await t.pool.query(`delete from "${t.schema}".messages`);
    await t.pool.query(`delete from "${t.schema}".messages_archive`);
    const p = spawnCli(['start'], env(t, { HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', ADMIN_TOKEN }));
    try {
      // Ready once started: until the database answers, /readyz says 503 (database-wait.test.ts).
      const { httpPort } = await p.waitForLog((l) => l.msg === 'outbox-relay started', 'the relay to start');
      const base = `http://127.0.0.1:${httpPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await runCli(['publish', '--count', '37', '--type', 'e2e.metrics'], env(t))).code).toBe(0);
      await waitFor(async () => (await counts(t)).delivered === 37, '37 deliveries');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(sumMetric(metrics, 'outbox_messages_delivered_total')).toBe(37);
      expect(metrics).toContain(
        'outbox_messages_delivered_total{destination="default",type="e2e.metrics"} 37',
      );
      expect(metrics).toMatch(/^outbox_claim_duration_seconds_count \d+/m);
      expect(metrics).toMatch(/^outbox_pending_messages 0$/m);

      const run = (auth?: string) =>
        fetch(`${base}/api/admin/jobs/run/cleanup`, {
          method: 'POST',
          headers: auth ? { authorization: auth } : {},
        });
      expect((await run()).status).toBe(401);
      expect((await run('Bearer wrong-token-wrong-token')).status).toBe(401);
      expect((await run(`Basic ${ADMIN_TOKEN}`)).status).toBe(401);
      const ok = await run(`Bearer ${ADMIN_TOKEN}`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ job: 'cleanup', status: 'succeeded' });
      const replay = (auth?: string) =>
        fetch(`${base}/api/admin/dead/replay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
          body: JSON.stringify({ all: true }),
        });
      expect((await replay()).status).toBe(401);
      expect((await replay('Bearer nope-nope-nope-nope')).status).toBe(401);
      expect((await replay(`Bearer ${ADMIN_TOKEN}`)).status).toBe(200);
      const status = (await (
        await fetch(`${base}/api/jobs/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).json()) as {
        jobs: Array<{ name: string; lastRun: { status: string } }>;
      };
      expect(status.jobs.find((j) => j.name === 'cleanup')?.lastRun.status).toBe('succeeded');
      const jobRuns = await (await fetch(`${base}/metrics`)).text();
      expect(jobRuns).toContain('outbox_job_runs_total{job="cleanup",status="succeeded"} 1');
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  });

  it('turns the admin routes off when no ADMIN_TOKEN is set', async () => {
    const p = spawnCli(['start'], env(t, { HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' }));
    try {
      const { port } = await p.waitForLog((l) => l.msg === 'HTTP endpoint listening', 'the HTTP endpoint');
      const r = await fetch(`http://127.0.0.1:${port}/api/admin/jobs/run/cleanup`, {
        method: 'POST',
        headers: { authorization: 'Bearer anything-at-all-here' },
      });
      expect(r.status).toBe(404);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  });
});

describe('two start processes', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.close());

  it('run each cron job once per tick in total, not once per process', async () => {
    const jobEnv = env(t, {
      WORKER_MODE: 'all',
      RELAY_SCHEDULE: 'cron',
      OUTBOX_CRON: '* * * * * *',
      CLEANUP_CRON: '* * * * * *',
      ENABLE_RETRY_DEAD: 'true',
      RETRY_CRON: '* * * * * *',
    });
    const procs: CliProcess[] = [
      spawnCli(['start'], { ...jobEnv, WORKER_ID: 'a' }),
      spawnCli(['start'], { ...jobEnv, WORKER_ID: 'b' }),
    ];
    try {
      await Promise.all(procs.map((p) => p.waitForLog((l) => l.msg === 'outbox-relay started', 'start')));
      await waitFor(
        async () =>
          (
            await t.pool.query(
              `select count(distinct tick)::int as n from "${t.schema}".job_runs where job_name = 'cleanup'`,
            )
          ).rows[0].n >= 4,
        'four cleanup ticks',
      );
    } finally {
      for (const p of procs) p.child.kill('SIGTERM');
      for (const p of procs) expect(await p.exited).toBe(0);
    }
    const { rows } = await t.pool.query(
      `select job_name, count(*)::int as runs, count(distinct tick)::int as ticks, count(distinct worker_id)::int as workers
         from "${t.schema}".job_runs group by job_name order by job_name`,
    );
    expect(rows.map((r) => r.job_name)).toEqual(['cleanup', 'relay', 'retry-dead']);
    const started = (job: string) =>
      procs.flatMap((p) => p.logs()).filter((l) => l.msg === `[Job:${job}] started`).length;
    for (const r of rows) {
      expect(r.runs).toBe(r.ticks);
      // Every run either process logged is one recorded run: no tick ran twice.
      expect(started(r.job_name)).toBe(r.runs);
    }
  });
});
