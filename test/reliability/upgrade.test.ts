import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/core/migrations/index.js';
import { migrate } from '../../src/core/migrations/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { FUTURE_MIGRATION } from '../support/future-migration.js';
import { prepareOlderBuild } from '../support/older-build.js';
import { waitFor } from '../support/recording-publisher.js';
import type { ScenarioDatabase } from './harness.js';
import { Fleet, lines, rateOver, THIS_BUILD as ROOT, addBacklog, finishUpgrade } from './upgrade-fleet.js';

// Rolling upgrades with real processes (#28). The older release is commit 2235086, the last
// one before storage v2 (migration 7), built from git into the temp directory.
const OLD_COMMIT = '2235086';
const RETAINED = 20_000;
const BACKLOG = 8_000;
/** Pending rows below which the old relays keep pace with the two producers. */
const STEADY_PENDING = 500;

let t: TestDatabase;
let oldDir: string;
let fleet: Fleet;
const child = (...args: Parameters<Fleet['child']>) => fleet.child(...args);

beforeAll(async () => {
  const build = prepareOlderBuild(OLD_COMMIT);
  oldDir = build.dir;
  if (build.installMs > 0) console.log(`built ${OLD_COMMIT} in ${(build.installMs / 1000).toFixed(1)} s`);
  t = await createTestDatabase({ migrate: false, poolSize: 8 });
  fleet = new Fleet(t.url);
}, 600_000);
afterAll(async () => {
  fleet?.close();
  await t?.close();
});

const scenario = (schema: string): ScenarioDatabase => ({ url: t.url, schema, pool: t.pool, db: t.db });

/** A schema in the older layout (migration 6): RETAINED delivered rows and BACKLOG due ones. */
async function olderSchema(name: string): Promise<string> {
  const schema = `${t.schema}_${name}`;
  await migrate(t.pool, { schema, migrations: MIGRATIONS.filter((m) => m.version <= 6) });
  await t.pool.query(
    `insert into "${schema}".messages (message_id, type, destination, payload, status, attempts, delivered_at)
     select gen_random_uuid(), 'retained', 'default', '{}', 'delivered', 1, now() - interval '1 hour'
       from generate_series(1, ${RETAINED})`,
  );
  await addBacklog(t.pool, schema, BACKLOG);
  return schema;
}

async function pendingIn(schema: string): Promise<number> {
  const { rows } = await t.pool.query(
    `select count(*)::int as n from "${schema}".messages where status = 'pending'`,
  );
  return rows[0].n;
}

describe('upgrading under load', () => {
  it('migrates to storage v2 under old relays and producers, then rolls the relays (SIGTERM and SIGKILL): nothing lost, nothing phantom, keys in order', async () => {
    const idle = await olderSchema('idle');
    let started = performance.now();
    await migrate(t.pool, { schema: idle });
    const idleMs = performance.now() - started;

    const schema = await olderSchema('load');
    const oldRelays = [child(oldDir, 'relay', schema), child(oldDir, 'relay', schema)];
    const producers = [0, 1].map((p) =>
      child(oldDir, 'producer', schema, { PRODUCER: `old${p}`, PAUSE_MS: '20' }),
    );
    await waitFor(
      () => oldRelays.every((r) => lines(r.file).length > 200),
      'the old relays to deliver',
      90_000,
    );
    // Measured once they keep pace with the producers, as in production (and in #28's report:
    // ~490/s with 64 pending): while they still drain the backlog, they run at a rate the
    // producers alone never give them again, and "during" would compare a drain with a trickle.
    await waitFor(
      async () => (await pendingIn(schema)) < STEADY_PENDING,
      'the old relays to catch up',
      90_000,
    );
    const pendingBefore = await pendingIn(schema);
    const before = await rateOver(oldRelays, 2_000);
    const countBefore = oldRelays.reduce((sum, r) => sum + lines(r.file).length, 0);
    started = performance.now();
    const result = await migrate(t.pool, { schema });
    const loadMs = performance.now() - started;
    const during =
      ((oldRelays.reduce((sum, r) => sum + lines(r.file).length, 0) - countBefore) * 1000) / loadMs;
    const pendingAfter = await pendingIn(schema);
    console.log(
      `old relays: ${before.toFixed(0)}/s before migrate, ${during.toFixed(0)}/s while it ran; ` +
        `migrate ${idleMs.toFixed(0)} ms idle, ${loadMs.toFixed(0)} ms under load (${RETAINED} retained; ` +
        `pending ${pendingBefore} before it, ${pendingAfter} at its end)`,
    );
    expect(result.applied).toEqual(MIGRATIONS.filter((m) => m.version >= 7).map((m) => m.version));
    // The goal is half the rate and twice the idle time; on a quiet 2-core box migrate took
    // 1.55-1.75x its idle 1.0-1.2 s and the old relays kept 0.6-0.7x, the backlog never growing
    // (docs/upgrading.md has the numbers). A shared CI box is noisier, so the test asserts the
    // bounds the old step order broke by 10x and more (85/s of 1,000/s, a backlog grown from 64
    // to 10,970; migrate 15 s to over 150 s against 0.5 s idle).
    expect(during).toBeGreaterThan(before / 4);
    expect(pendingAfter).toBeLessThan(pendingBefore + 2_000);
    expect(loadMs).toBeLessThan(8 * idleMs + 2_000);

    // Migration 7: every old relay stops before a new one starts (README "Upgrading").
    oldRelays[0]!.proc.kill('SIGTERM');
    expect(await oldRelays[0]!.exited).toBe(0);
    oldRelays[1]!.proc.kill('SIGKILL');
    await oldRelays[1]!.exited;
    const killedPublished = new Set(lines(oldRelays[1]!.file).map((l) => l.split(' ')[0]!));
    const newRelays = [child(ROOT, 'relay', schema), child(ROOT, 'relay', schema)];
    const newProducer = child(ROOT, 'producer', schema, { PRODUCER: 'new', PAUSE_MS: '20' });
    // The new producer must have committed too: SIGTERM before its handler is installed (tsx
    // takes a second to start) kills it with no exit code, as one run out of four did.
    await waitFor(
      () => newRelays.every((r) => lines(r.file).length > 100) && lines(newProducer.file).length > 20,
      'the new relays to deliver and the new producer to commit',
      90_000,
    );
    const { ledger, deliveries, verdict } = await finishUpgrade(
      scenario(schema),
      { producers: [...producers, newProducer], running: newRelays, stopped: oldRelays },
      'upgrade',
    );
    const twice = [...deliveries.counts].filter(([, c]) => c > 1).map(([id]) => id);
    console.log(
      `upgrade: ${ledger.committed.size} committed, ${deliveries.counts.size} delivered, ${twice.length} twice ` +
        `(all in flight at the SIGKILL: ${twice.every((id) => killedPublished.has(id))})`,
    );
    expect(verdict.problems).toEqual([]);
    expect(twice.filter((id) => !killedPublished.has(id))).toEqual([]);
    expect(twice.length).toBeLessThanOrEqual(58); // one claimed batch and its publishes at most
  }, 180_000);

  it('stops relays of this build when a later release migrates, so old and new never claim side by side', async () => {
    const schema = `${t.schema}_fence`;
    await migrate(t.pool, { schema });
    const relays = [child(ROOT, 'relay', schema), child(ROOT, 'relay', schema)];
    const producer = child(ROOT, 'producer', schema, { PRODUCER: 'f', PAUSE_MS: '5' });
    await waitFor(() => relays.every((r) => lines(r.file).length > 100), 'the relays to deliver', 90_000);
    await migrate(t.pool, { schema, migrations: [...MIGRATIONS, FUTURE_MIGRATION] });
    const migratedAt = performance.now();
    expect(await Promise.all(relays.map((r) => r.exited))).toEqual([3, 3]);
    const stoppedMs = performance.now() - migratedAt;
    producer.proc.kill('SIGTERM');
    expect(await producer.exited).toBe(0);
    const { rows } = await t.pool.query(
      `select count(*)::int as n, count(*) filter (where status = 'in_flight')::int as in_flight
         from "${schema}".messages`,
    );
    console.log(
      `fence: relays exited ${stoppedMs.toFixed(0)} ms after the migration, ${rows[0].n} left for the new release`,
    );
    expect(rows[0]).toMatchObject({ in_flight: 0 });
    expect(rows[0].n).toBeGreaterThan(0);
    // The later release's relays: this build, with the schema's version put back in its reach.
    await t.pool.query(`delete from "${schema}".migrations where version = $1`, [FUTURE_MIGRATION.version]);
    const next = child(ROOT, 'relay', schema);
    const { verdict } = await finishUpgrade(
      scenario(schema),
      { producers: [producer], running: [next], stopped: relays },
      'fence',
    );
    expect(verdict.problems).toEqual([]);
    expect(verdict.figures.duplicates).toBe(0);
  }, 120_000);
});
