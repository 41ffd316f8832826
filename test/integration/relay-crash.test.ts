import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher, waitFor } from '../support/recording-publisher.js';
import { childPublished, spawnRelayChild } from '../support/spawn-relay-child.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

it('redelivers every message of a relay process killed with SIGKILL mid-batch, after its lease expires', async () => {
  const ids = await createOutbox({ schema: t.schema }).addMany(
    t.db,
    Array.from({ length: 2000 }, (_, i) => ({ type: 'crash', payload: i })),
  );
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'crash-')), 'delivered.txt');
  const child = spawnRelayChild({ url: t.url, schema: t.schema, outFile });
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(() => childPublished(outFile).length >= 300, 'the child to deliver some messages');
  child.kill('SIGKILL');
  await exited;

  const { rows: held } = await t.pool.query<{ message_id: string }>(
    `select message_id from "${t.schema}".messages where status = 'in_flight'`,
  );
  expect(held.length).toBeGreaterThan(0); // it really died holding leases
  const leased = new Set(held.map((r) => r.message_id));

  const survivor = new RecordingPublisher();
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { default: survivor },
    logger: NOOP_LOGGER,
    pollIntervalMs: 20,
  });
  relay.start();
  await waitFor(
    async () => {
      const r = await t.pool.query(
        `select count(*)::int as n from "${t.schema}".all_messages where status <> 'delivered'`,
      );
      return r.rows[0].n === 0;
    },
    'every row delivered',
    30_000,
  );
  await relay.stop();

  const delivered = new Set([...childPublished(outFile), ...survivor.calls.map((c) => c.message.messageId)]);
  expect(ids.filter((id) => !delivered.has(id))).toEqual([]);
  // At-least-once: each relay sent a message at most once, and only a message the killed relay
  // still held a lease on can have been sent by both.
  const counts = (list: string[]) => {
    const m = new Map<string, number>();
    for (const id of list) m.set(id, (m.get(id) ?? 0) + 1);
    return m;
  };
  const byChild = counts(childPublished(outFile));
  const bySurvivor = counts(survivor.calls.map((c) => c.message.messageId));
  expect([...byChild.values(), ...bySurvivor.values()].every((n) => n === 1)).toBe(true);
  const twice = [...bySurvivor.keys()].filter((id) => byChild.has(id));
  expect(twice.filter((id) => !leased.has(id))).toEqual([]);
});
