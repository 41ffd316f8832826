import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/logger.js';
import { createOutbox } from '../../src/core/outbox.js';
import { createRelay } from '../../src/core/relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher, waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

function startChild(outFile: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/relay-child.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      OUTBOX_SCHEMA: t.schema,
      OUT_FILE: outFile,
      LEASE_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return child;
}

function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

it('redelivers every message of a relay process killed with SIGKILL mid-batch, after its lease expires', async () => {
  const ids = await createOutbox({ schema: t.schema }).addMany(
    t.db,
    Array.from({ length: 2000 }, (_, i) => ({ type: 'crash', payload: i })),
  );
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'crash-')), 'delivered.txt');
  const child = startChild(outFile);
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(() => lines(outFile).length >= 300, 'the child to deliver some messages');
  child.kill('SIGKILL');
  await exited;

  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".messages where status = 'in_flight'`,
  );
  expect(rows[0]!.n).toBeGreaterThan(0); // it really died holding leases

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
        `select count(*)::int as n from "${t.schema}".messages where status <> 'delivered'`,
      );
      return r.rows[0].n === 0;
    },
    'every row delivered',
    30_000,
  );
  await relay.stop();

  const delivered = new Set([...lines(outFile), ...survivor.calls.map((c) => c.message.messageId)]);
  expect(ids.filter((id) => !delivered.has(id))).toEqual([]);
  // At-least-once: duplicates are bounded by what the dead relay held (2 batches of 50).
  const duplicates = lines(outFile).length + survivor.calls.length - ids.length;
  expect(duplicates).toBeGreaterThanOrEqual(0);
  expect(duplicates).toBeLessThanOrEqual(100);
});
