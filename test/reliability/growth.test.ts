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

// Before 0901809 stats counted by status with a full scan: ~140-300 ms at 300k rows, 1.6 s at
// 5M. Since storage v2 delivered rows live in the archive, which stats only estimates.
it('keeps stats fast with 300k retained delivered rows (within a small multiple of empty)', () => {
  expect(g.statsRetainedMs).toBeLessThan(Math.max(5 * g.statsEmptyMs, 50));
});
