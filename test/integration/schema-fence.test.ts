import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { LATEST_MIGRATION_VERSION, MIGRATIONS, type Migration } from '../../src/core/migrations/index.js';
import { migrate } from '../../src/core/migrations/migrate.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { OutboxStore } from '../../src/core/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { FUTURE_MIGRATION } from '../support/future-migration.js';
import { RecordingPublisher, waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ migrate: false, poolSize: 8 });
});
afterAll(() => t.close());

async function schemaAt(name: string, migrations: readonly Migration[]): Promise<string> {
  const schema = `${t.schema}_${name}`;
  await migrate(t.pool, { schema, migrations });
  await createOutbox({ schema }).addMany(
    t.db,
    Array.from({ length: 300 }, (_, i) => ({ type: 'm', payload: { i }, orderingKey: `k${i % 7}` })),
  );
  return schema;
}

describe('the schema fence', () => {
  it('refuses a schema older than the relay needs: runOnce throws, start() stops with the fault', async () => {
    const schema = await schemaAt('old', MIGRATIONS.slice(0, -1)); // the newest migration not applied
    const publisher = new RecordingPublisher();
    const relay = createRelay({ db: t.db, schema, publishers: { default: publisher }, logger: NOOP_LOGGER });
    const error = await relay.runOnce().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboxError);
    expect((error as OutboxError).code).toBe('SCHEMA_TOO_OLD');
    expect((error as OutboxError).message).toMatch(
      new RegExp(
        `migration ${MIGRATIONS.at(-2)!.version} but this relay needs ${LATEST_MIGRATION_VERSION}: run \`outbox-relay migrate\``,
      ),
    );

    const other = createRelay({ db: t.db, schema, publishers: { default: publisher }, logger: NOOP_LOGGER });
    const faults: OutboxError[] = [];
    other.on('fault', (e) => faults.push(e));
    other.start();
    await waitFor(() => faults.length === 1, 'the fault event');
    expect(faults[0]!.code).toBe('SCHEMA_TOO_OLD');
    expect(other.running).toBe(false);
    expect(publisher.calls).toEqual([]);
  });

  it('claims nothing from a newer schema: the condition is in the claim statement itself', async () => {
    const schema = await schemaAt('claim', [...MIGRATIONS, FUTURE_MIGRATION]);
    const claim = (store: OutboxStore) =>
      store.claim(sqlRunner(t.pool), { leaseMs: 60_000, limit: 10, workerId: 'fence-test' });
    expect(await claim(new OutboxStore(schema, { fenceVersion: LATEST_MIGRATION_VERSION }))).toEqual([]);
    // Built with the newer migration, the same claim takes the heads of the 7 ordering keys.
    const newer = new OutboxStore(schema, { fenceVersion: LATEST_MIGRATION_VERSION + 1 });
    expect(await claim(newer)).toHaveLength(7);
  });

  it('keeps claiming from a newer schema whose migrations let the previous release run after them', async () => {
    const additive: Migration = {
      ...FUTURE_MIGRATION,
      name: 'future-additive',
      previousRelays: { during: true, after: true, note: 'a new table older relays never read' },
      sql: (s) => `create table ${s}.future_things (id int primary key)`,
    };
    const schema = await schemaAt('additive', [...MIGRATIONS, additive]);
    const { rows } = await t.pool.query(
      `select version, relays_from from "${schema}".migrations where version >= $1 order by version`,
      [LATEST_MIGRATION_VERSION],
    );
    // The newest migration of this build keeps its own value; the additive one carries it on.
    const own = rows[0].relays_from as number;
    expect(rows).toEqual([
      { version: LATEST_MIGRATION_VERSION, relays_from: own },
      { version: LATEST_MIGRATION_VERSION + 1, relays_from: own },
    ]);
    const publisher = new RecordingPublisher();
    const relay = createRelay({ db: t.db, schema, publishers: { default: publisher }, logger: NOOP_LOGGER });
    const faults: OutboxError[] = [];
    relay.on('fault', (e) => faults.push(e));
    relay.start();
    await waitFor(() => publisher.calls.length === 300, 'the relay to deliver every message');
    await relay.stop();
    expect(faults).toEqual([]);
  });

  it('stops relays within ~1 s of a newer migration, releases what they held, and sends nothing twice', async () => {
    const schema = await schemaAt('new', MIGRATIONS);
    const publisher = new RecordingPublisher('slow', () => new Promise((r) => setTimeout(r, 5)));
    const faults: OutboxError[] = [];
    const relays = [1, 2].map((n) => {
      const relay = createRelay({
        db: t.db,
        schema,
        workerId: `fenced-${n}`,
        publishers: { default: publisher },
        logger: NOOP_LOGGER,
        batchSize: 10,
        concurrency: 4,
        pollIntervalMs: 20,
      });
      relay.on('fault', (e) => faults.push(e));
      relay.start();
      return relay;
    });
    await waitFor(() => publisher.calls.length >= 30, 'first deliveries');
    await migrate(t.pool, { schema, migrations: [...MIGRATIONS, FUTURE_MIGRATION] });
    const migratedAt = performance.now();
    await waitFor(() => faults.length === 2, 'both relays to stop on the newer schema', 5_000);
    const stoppedAfterMs = performance.now() - migratedAt;
    console.log(`relays stopped ${stoppedAfterMs.toFixed(0)} ms after the newer migration committed`);
    expect(stoppedAfterMs).toBeLessThan(2_000);
    expect(faults.map((f) => f.code)).toEqual(['SCHEMA_TOO_NEW', 'SCHEMA_TOO_NEW']);
    expect(faults[0]!.message).toMatch(
      new RegExp(
        `migration ${LATEST_MIGRATION_VERSION + 1}, newer than this relay knows \\(${LATEST_MIGRATION_VERSION}\\)`,
      ),
    );
    expect(relays.every((r) => !r.running)).toBe(true);
    const { rows } = await t.pool.query(
      `select count(*)::int as n, count(*) filter (where status = 'in_flight')::int as in_flight
         from "${schema}".messages`,
    );
    expect(rows[0]).toMatchObject({ in_flight: 0 });
    expect(rows[0].n).toBeGreaterThan(0); // they stopped with work left
    expect([...publisher.countsByMessageId().values()].every((n) => n === 1)).toBe(true);
  });
});
