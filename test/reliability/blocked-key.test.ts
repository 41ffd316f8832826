// Issue 14 goal 1. Before storage v2 (main 889a8d9, load ~20) this failed: drain ratio 0.010x,
// claim median x133. Design and measurements: bench/experiments/README.md.
import { beforeAll, expect, it, inject } from 'vitest';
import { type BlockedKeyFigures, blockedKeyLine, blockedKeyScenario } from '../../bench/blocked-key.js';

// Issue 14 goal 1 at CI size: 50,000 messages behind one blocked key next to 4,000 healthy
// messages over 100 keys. `npx tsx bench/blocked-key.ts` runs it at 200,000 / 10,000.
// Ratios within one run on one server; the time limit only bounds a run that goes wrong.
// Five rounds of drains near 1 s each: at 2,000 messages (0.4 s drains) and three rounds one
// CI run on a loaded box measured 0.79 where standalone runs give 1.04, 1.39 and 1.12.
let f: BlockedKeyFigures;
beforeAll(async () => {
  f = await blockedKeyScenario({
    url: inject('databaseUrl'),
    backlog: 50_000,
    others: 4_000,
    keys: 100,
    head: 'failing',
    timeLimitMs: 60_000,
    rounds: 5,
  });
  console.log(`| blocked key | ${blockedKeyLine(f)} |`);
}, 600_000);

it('drains other keys at >= 0.8x their rate (median of 5 paired rounds) while 50k messages wait behind one failing head', () => {
  expect(f.without.finished).toBe(true);
  expect(f.with.finished).toBe(true);
  expect(f.drainRatio).toBeGreaterThanOrEqual(0.8);
});

it('keeps the claim within 2x of its time without the blocked backlog', () => {
  expect(f.claimMedianRatio).toBeLessThanOrEqual(2);
});
