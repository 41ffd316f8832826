import { afterAll, beforeAll, expect, it } from 'vitest';
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
    `select status, count(*)::int as n from "${t.schema}".messages group by status`,
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
