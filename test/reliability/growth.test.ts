import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type GrowthFigures, growthLine, growthScenario } from './scenarios/growth.js';

// Loose bounds: a 2-core CI box is noisy; what matters is "a small multiple", not growth with
// the table. test/soak/growth.ts runs the same with 5 million rows.
const RETAINED = 300_000;

let t: TestDatabase;
let g: GrowthFigures;
beforeAll(async () => {
  t = await createTestDatabase();
  g = await growthScenario(t, { retained: RETAINED });
  console.log(`| 7 growth | ${growthLine(g)} |`);
}, 120_000);
afterAll(() => t.close());

it('claims as fast with 300k retained delivered rows as on an empty table (within a small multiple)', () => {
  expect(g.claimRetainedMs).toBeLessThan(Math.max(5 * g.claimEmptyMs, 25));
});

it('cleans retained rows up in bounded batches without long locks, leaving pending rows alone', () => {
  expect(g.cleanupDeleted).toBe(RETAINED);
  expect(g.cleanupBatches).toBeGreaterThanOrEqual(RETAINED / 5000);
  expect(g.cleanupLongestStatementMs).toBeLessThan(3000);
  expect(g.claimDuringCleanupMaxMs).toBeLessThan(3000);
  expect(g.pendingUntouched).toBe(true);
});

// KNOWN BUG (reported, in src/core/store.ts which is being reworked): `stats` counts by status
// with `select status, count(*) ... group by status`, a full scan of every retained row, so it
// grows linearly (~300 ms at 300k rows, seconds at 5M). `it.fails` keeps the suite green while
// stating the promise; when stats is fixed this turns red: then make it a plain `it`.
it.fails('keeps stats fast with 300k retained delivered rows (within a small multiple of empty)', () => {
  expect(g.statsRetainedMs).toBeLessThan(Math.max(5 * g.statsEmptyMs, 50));
});
