// Issue 22 item 5: a paused destination costs the others nothing. The blocked-key comparison
// (bench/blocked-key.ts) with its `paused` head: 50,000 messages arrive for a destination paused
// beforehand (the running relay holds them out of the claim index as they come), next to 4,000
// healthy messages over 100 keys. `npx tsx bench/blocked-key.ts 200000 10000 100 paused`
// runs it at 200,000 / 10,000. Before migration 9 nothing could pause a destination.
import { beforeAll, expect, it, inject } from 'vitest';
import { type BlockedKeyFigures, blockedKeyLine, blockedKeyScenario } from '../../bench/blocked-key.js';

let f: BlockedKeyFigures;
beforeAll(async () => {
  f = await blockedKeyScenario({
    url: inject('databaseUrl'),
    backlog: 50_000,
    others: 4_000,
    keys: 100,
    head: 'paused',
    timeLimitMs: 60_000,
    rounds: 3,
  });
  console.log(`| paused destination | ${blockedKeyLine(f)} |`);
}, 900_000);

it('sends nothing to the paused destination', () => {
  expect(f.with.sentWhilePaused).toBe(0);
});

it('drains other destinations at >= 0.8x their rate (median of 3 paired rounds) while 50k messages wait for a paused one', () => {
  expect(f.without.finished).toBe(true);
  expect(f.with.finished).toBe(true);
  expect(f.drainRatio).toBeGreaterThanOrEqual(0.8);
});

it('keeps the claim within 2x of its time without the paused backlog', () => {
  expect(f.claimMedianRatio).toBeLessThanOrEqual(2);
});
