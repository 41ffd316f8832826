import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/core/migrations/index.js';
import { spawnCli } from '../e2e/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { report } from './harness.js';
import { racesScenario } from './scenarios/races.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 24 });
});
afterAll(() => t.close());

it('delivers every message exactly in key order with 4 relays and 20 producers, including low ids committed late', async () => {
  const r = await racesScenario(t, { relays: 4, producers: 20, messagesPerProducer: 300, longTxRatio: 0.05 });
  report(r.figures, `(${r.heldTransactions} transactions held open)`);
  expect(r.heldTransactions).toBeGreaterThan(0);
  expect(r.problems).toEqual([]);
  // Relays in one process, no crash: SKIP LOCKED gives every row to one relay only.
  expect(r.figures.duplicates).toBe(0);
}, 120_000);

it('applies each migration once when 3 processes migrate the same fresh schema at once', async () => {
  const schema = `mig_${randomBytes(5).toString('hex')}`;
  try {
    const procs = Array.from({ length: 3 }, () =>
      spawnCli(['migrate'], { DATABASE_URL: t.url, OUTBOX_SCHEMA: schema }),
    );
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes, procs.map((p) => p.stderr()).join('\n')).toEqual([0, 0, 0]);
    const { rows } = await t.pool.query<{ version: number; n: number }>(
      `select version, count(*)::int as n from "${schema}".migrations group by version order by version`,
    );
    // Every known version once; numbers are reserved per branch, so there may be gaps.
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(rows.every((r) => r.n === 1)).toBe(true);
  } finally {
    await t.pool.query(`drop schema if exists "${schema}" cascade`);
  }
});
