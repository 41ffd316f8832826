import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { report } from './harness.js';
import { flappingScenario } from './scenarios/flapping.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

it('delivers every message through a receiver failing at random (500, timeout, reset, slow body, 429) with bounded memory', async () => {
  const r = await flappingScenario(t, { producers: 4, messagesPerProducer: 300, failureRatio: 0.35 });
  report(r.figures, `(failures ${JSON.stringify(r.failures)}, heap +${r.heapGrowthMb.toFixed(1)} MB)`);
  expect(r.problems).toEqual([]);
  expect(Object.keys(r.failures).sort()).toEqual(['429', '500', 'reset', 'slow-body', 'timeout']);
  expect(r.heapGrowthMb).toBeLessThan(200);
}, 120_000);
