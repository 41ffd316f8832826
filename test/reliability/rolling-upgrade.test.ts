import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Migration, MIGRATIONS } from '../../src/core/migrations/index.js';
import { migrate } from '../../src/core/migrations/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { prepareOlderBuild } from '../support/older-build.js';
import { waitFor } from '../support/recording-publisher.js';
import type { ScenarioDatabase } from './harness.js';
import {
  type Child,
  Fleet,
  lines,
  rateOver,
  THIS_BUILD,
  addBacklog,
  finishUpgrade,
} from './upgrade-fleet.js';

// Every migration this build adds since the last release with the schema fence, applied under
// load by this build's `migrate` while that release's relays and producers run, as a rolling
// deploy does it: each migration must do what its `previousRelays` says (docs/upgrading.md).
// PREVIOUS is that release: the first commit whose relays read `relays_from`.
const PREVIOUS = 'e8f8c31';
const BACKLOG = 8_000;

let t: TestDatabase;
let oldDir: string;
let fleet: Fleet;
let previousLatest: number;
let added: readonly Migration[];

beforeAll(async () => {
  oldDir = prepareOlderBuild(PREVIOUS).dir;
  const old = await import(pathToFileURL(path.join(oldDir, 'src/core/migrations/migration-list.ts')).href);
  previousLatest = old.LATEST_MIGRATION_VERSION as number;
  added = MIGRATIONS.filter((m) => m.version > previousLatest);
  t = await createTestDatabase({ migrate: false, poolSize: 8 });
  fleet = new Fleet(t.url);
}, 600_000);
afterAll(async () => {
  fleet?.close();
  await t?.close();
});

const scenario = (schema: string): ScenarioDatabase => ({ url: t.url, schema, pool: t.pool, db: t.db });
const published = (relays: Child[]) => relays.reduce((sum, r) => sum + lines(r.file).length, 0);

/** A schema as the previous release left it, with BACKLOG due messages (a quarter unkeyed). */
async function previousSchema(name: string): Promise<string> {
  const schema = `${t.schema}_${name}`;
  await migrate(t.pool, { schema, migrations: MIGRATIONS.filter((m) => m.version <= previousLatest) });
  await addBacklog(t.pool, schema, BACKLOG);
  return schema;
}

describe('a rolling upgrade from the previous release', () => {
  it('applies this release’s migrations under the previous release’s relays and producers as each one’s previousRelays says: nothing lost, nothing twice', async () => {
    // This build must add something: a release without migrations needs no upgrade test, and
    // PREVIOUS moves up with each release.
    expect(added.length).toBeGreaterThan(0);
    const during = added.every((m) => m.previousRelays.during);
    const after = added.every((m) => m.previousRelays.after);

    const idle = await previousSchema('idle');
    let started = performance.now();
    await migrate(t.pool, { schema: idle });
    const idleMs = performance.now() - started;

    const schema = await previousSchema('load');
    const oldRelays = [fleet.child(oldDir, 'relay', schema), fleet.child(oldDir, 'relay', schema)];
    const oldProducers = [0, 1].map((p) =>
      fleet.child(oldDir, 'producer', schema, { PRODUCER: `old${p}`, PAUSE_MS: '20' }),
    );
    await waitFor(
      () => oldRelays.every((r) => lines(r.file).length > 200),
      'the old relays to deliver',
      90_000,
    );
    const before = await rateOver(oldRelays, 2_000);
    const countBefore = published(oldRelays);
    started = performance.now();
    const result = await migrate(t.pool, { schema });
    const loadMs = performance.now() - started;
    // Over at least 2 s from migrate's start: a migration of milliseconds leaves a window too
    // short to tell a stall from the relays' own bursts.
    const windowMs = Math.max(loadMs, 2_000);
    await new Promise((r) => setTimeout(r, windowMs - loadMs));
    const rateDuring = ((published(oldRelays) - countBefore) * 1000) / (performance.now() - started);
    console.log(
      `rolling upgrade ${previousLatest} -> ${result.version}: old relays ${before.toFixed(0)}/s before migrate, ` +
        `${rateDuring.toFixed(0)}/s over the ${windowMs.toFixed(0)} ms from its start; migrate ${idleMs.toFixed(0)} ms idle, ` +
        `${loadMs.toFixed(0)} ms under load (${result.lockRetries} lock retries)`,
    );
    expect(result.applied).toEqual(added.map((m) => m.version));
    // Loaded-box bounds, as in upgrade.test.ts: half the rate is the promise on a quiet machine.
    if (during) expect(rateDuring).toBeGreaterThan(before / 4);

    const newRelays = [fleet.child(THIS_BUILD, 'relay', schema)];
    const newProducer = fleet.child(THIS_BUILD, 'producer', schema, { PRODUCER: 'new', PAUSE_MS: '20' });
    if (after) {
      // Side by side: the old relays keep claiming next to the new one.
      const oldAt = published(oldRelays);
      await waitFor(
        () =>
          published(newRelays) > 100 &&
          published(oldRelays) > oldAt + 100 &&
          lines(newProducer.file).length > 20,
        'old and new relays to deliver side by side',
        90_000,
      );
      expect(oldRelays.every((r) => r.proc.exitCode === null)).toBe(true);
      for (const r of oldRelays) r.proc.kill('SIGTERM');
      expect(await Promise.all(oldRelays.map((r) => r.exited))).toEqual([0, 0]);
    } else {
      // The fence stops the old relays (exit 3) before they could claim next to new ones.
      expect(await Promise.all(oldRelays.map((r) => r.exited))).toEqual([3, 3]);
      await waitFor(
        () => published(newRelays) > 100 && lines(newProducer.file).length > 20,
        'the new relay to deliver',
        90_000,
      );
    }
    const { verdict } = await finishUpgrade(
      scenario(schema),
      { producers: [...oldProducers, newProducer], running: newRelays, stopped: oldRelays },
      'rolling-upgrade',
    );
    expect(verdict.problems).toEqual([]);
    expect(verdict.figures.duplicates).toBe(0);
  }, 240_000);
});
