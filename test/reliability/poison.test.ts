import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { report } from './harness.js';
import { poisonScenario } from './scenarios/poison.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

it('ends every poisoned message delivered or dead with a reason, without crashing the relay or stalling healthy keys', async () => {
  const r = await poisonScenario(t, { healthy: 500, poisonedPerKind: 8 });
  report(
    r.figures,
    `(rejected at add: ${r.rejected.length}, dead: ${Object.values(r.deadReasons).flat().length})`,
  );
  expect(r.problems).toEqual([]);
  expect(r.roundTripMismatches).toEqual([]);
  expect(r.rejected).toHaveLength(5);
  expect(r.rejected.join('\n')).toMatch(/over the limit of 1048576 bytes/);
  expect(r.rejected.join('\n')).toMatch(/lone UTF-16 surrogate/);
  expect(r.rejected.join('\n')).toMatch(/NUL character/);
  expect(Object.keys(r.deadReasons).sort()).toEqual(['hang', 'nowhere', 'permanent', 'throwing']);
  for (const reason of r.deadReasons.throwing!) expect(reason).toMatch(/^gave up after 3 attempts: \S/);
  for (const reason of r.deadReasons.hang!)
    expect(reason).toMatch(/gave up after 2 attempts: .*timed out after 300 ms/);
  for (const reason of r.deadReasons.permanent!) expect(reason).toContain('can never work');
  for (const reason of r.deadReasons.nowhere!)
    expect(reason).toContain('no publisher for destination "nowhere"');
  // Healthy keys finished while poisoned ones were still being retried or hanging.
  expect(r.healthyDoneWhileHanging).toBe(true);
  expect(r.relayErrors).toBe(0);
}, 120_000);
