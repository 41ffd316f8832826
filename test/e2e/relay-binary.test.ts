import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';
import { runCli, spawnCli } from './cli-process.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

async function counts(): Promise<Record<'pending' | 'in_flight' | 'delivered' | 'dead', number>> {
  const { rows } = await t.pool.query(
    `select status, count(*)::int as n from "${t.schema}".all_messages group by status`,
  );
  const out = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
  for (const r of rows) out[r.status as keyof typeof out] = r.n;
  return out;
}

it('start with WORKER_RUN_ONCE: SIGTERM mid-drain exits 0 and gives back its leases', async () => {
  const env = { DATABASE_URL: t.url, OUTBOX_SCHEMA: t.schema, LOG_LEVEL: 'info' };
  const total = 5000;
  expect((await runCli(['publish', '--count', String(total), '--type', 'e2e.once'], env)).code).toBe(0);
  const p = spawnCli(['start'], { ...env, WORKER_RUN_ONCE: 'true', BATCH_SIZE: '20', CONCURRENCY: '2' });
  await waitFor(async () => (await counts()).delivered > 50, 'first deliveries');
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  const after = await counts();
  expect(after.in_flight).toBe(0);
  expect(after.pending).toBeGreaterThan(0); // it really was stopped mid-drain
  expect(after.pending + after.delivered).toBe(total);
});

it('a destination no relay serves waits pending and shows its age in /metrics', async () => {
  const env = { DATABASE_URL: t.url, OUTBOX_SCHEMA: t.schema, LOG_LEVEL: 'info' };
  await t.pool.query(`delete from "${t.schema}".messages`);
  await t.pool.query(`delete from "${t.schema}".messages_archive`);
  await createOutbox({ schema: t.schema }).addMany(t.db, [
    { type: 'e2e.cmd', payload: 1, destination: 'routeros:tower-9' },
    { type: 'e2e.evt', payload: 2 },
  ]);
  const p = spawnCli(['start'], { ...env, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', ENABLE_JOBS: 'false' });
  try {
    const { port } = await p.waitForLog((l) => l.msg === 'HTTP endpoint listening', 'the HTTP endpoint');
    await waitFor(async () => (await counts()).delivered === 1, 'the served message delivered');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(
      /^outbox_destination_oldest_pending_age_seconds\{destination="routeros:tower-9"\} \d/m,
    );
    expect(await counts()).toMatchObject({ pending: 1, delivered: 1, dead: 0 });
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
});
