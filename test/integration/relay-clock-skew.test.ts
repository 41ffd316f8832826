import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;
const children: ChildProcess[] = [];
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await t.close();
});

const TEN_MINUTES_MS = 10 * 60_000;

/** A relay process whose host clock is `skewMs` off; resolves once it is running. */
async function skewedRelay(skewMs: number, outFile: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './test/support/skewed-date.ts', 'test/support/relay-child.ts'],
    {
      env: {
        ...process.env,
        DATABASE_URL: t.url,
        OUTBOX_SCHEMA: t.schema,
        OUT_FILE: outFile,
        CLOCK_SKEW_MS: String(skewMs),
        LEASE_MS: '3000',
        PUBLISH_DELAY_MS: '200',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`relay child exited with ${code}`)));
  });
}

function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

it('relays on hosts 10 minutes behind and ahead deliver every message once, none held back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skew-'));
  const behind = path.join(dir, 'behind.txt');
  const ahead = path.join(dir, 'ahead.txt');
  const outbox = createOutbox({ schema: t.schema });

  // Alone, the relay whose clock is behind still sees rows added at the database's now.
  await skewedRelay(-TEN_MINUTES_MS, behind);
  const first = await outbox.addMany(
    t.db,
    Array.from({ length: 40 }, (_, i) => ({ type: 'skew', payload: i })),
  );
  await waitFor(() => new Set(lines(behind)).size === first.length, 'the relay behind to deliver', 20_000);

  // With one 10 minutes ahead beside it, neither takes the other's fresh leases.
  await skewedRelay(TEN_MINUTES_MS, ahead);
  const second = await outbox.addMany(
    t.db,
    Array.from({ length: 200 }, (_, i) => ({ type: 'skew', payload: i })),
  );
  const all = [...first, ...second];
  await waitFor(
    async () => {
      const { rows } = await t.pool.query(
        `select count(*)::int as n from "${t.schema}".all_messages where status = 'delivered'`,
      );
      return rows[0].n === all.length;
    },
    'every message delivered',
    30_000,
  );
  const sent = [...lines(behind), ...lines(ahead)];
  const counts = new Map<string, number>();
  for (const id of sent) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
  expect(all.filter((id) => !counts.has(id))).toEqual([]);
});
