import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import type { OutboxMessage } from '../../src/core/foundation/message.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { inboxWebhookHeaders } from '../../src/inbox/index.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let t: TestDatabase;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 10 });
});
afterAll(() => t.close());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts an example as its own process (as a user would, through tsx) and waits for its port. */
async function startExample(file: string, schema: string): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'examples', file)],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: t.url, WEBHOOK_SECRET: SECRET, INBOX_SCHEMA: schema, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await t.pool.query(`drop schema if exists "${schema}" cascade`);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} printed no port in 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { listening?: number };
      if (parsed.listening) {
        clearTimeout(timer);
        resolve(parsed.listening);
      }
    });
  });
  return `http://127.0.0.1:${port}/webhooks`;
}

describe.each(['inbox-receiver-node-http.ts', 'inbox-receiver-express.ts', 'inbox-receiver-fastify.ts'])(
  '%s',
  (file) => {
    it('credits each relayed message once, answers a redelivered copy 200 and a forged one 401', async () => {
      await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
      const schema = `${t.schema}_${file.split('-')[2]!.split('.')[0]!.replace('-', '_')}`;
      const url = await startExample(file, schema);
      const webhook = new WebhookPublisher({
        url,
        secrets: [SECRET],
        allowPrivateNetworks: true,
        headers: inboxWebhookHeaders,
      });
      cleanups.push(() => webhook.close());
      await createOutbox({ schema: t.schema }).addMany(
        t.db,
        Array.from({ length: 30 }, (_, i) => ({
          type: 'credit',
          destination: 'webhook',
          orderingKey: `acct-${i % 3}`,
          payload: { account: `acct-${i % 3}`, amount: i + 1 },
        })),
      );
      const relay = createRelay({
        db: t.db,
        schema: t.schema,
        publishers: { webhook },
        logger: NOOP_LOGGER,
        pollIntervalMs: 5,
      });
      cleanups.push(() => relay.stop());
      relay.start();
      const delivered = async () =>
        (
          await t.pool.query<{ n: number }>(
            `select count(*)::int as n from "${t.schema}".all_messages where status = 'delivered'`,
          )
        ).rows[0]!.n;
      await waitFor(async () => (await delivered()) === 30, '30 messages delivered', 40_000);

      const balances = async () =>
        Object.fromEntries(
          (
            await t.pool.query<{ account: string; balance: string }>(
              `select account, balance::text from "${schema}".balances order by account`,
            )
          ).rows.map((r) => [r.account, Number(r.balance)]),
        );
      // acct-0 gets 1+4+...+28, acct-1 2+5+...+29, acct-2 3+6+...+30.
      const expected = { 'acct-0': 145, 'acct-1': 155, 'acct-2': 165 };
      expect(await balances()).toEqual(expected);

      // The relay resending a delivered message (its 2xx was lost): same webhook-id, signed anew.
      const { rows } = await t.pool.query<{ id: string; message_id: string; payload_text: string }>(
        `select id::text, message_id::text, payload::text as payload_text from "${t.schema}".all_messages order by id limit 1`,
      );
      const row = rows[0]!;
      const copy: OutboxMessage = {
        id: row.id,
        messageId: row.message_id,
        kind: 'event',
        type: 'credit',
        destination: 'webhook',
        tenantId: null,
        orderingKey: 'acct-0',
        payload: JSON.parse(row.payload_text),
        body: row.payload_text,
        headers: {},
        attempts: 2,
        maxAttempts: 25,
        createdAt: new Date(),
      };
      await expect(
        webhook.publish(copy, { signal: AbortSignal.timeout(10_000), attempt: 2, logger: NOOP_LOGGER }),
      ).resolves.toEqual({ status: 200 });

      const forged = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'forged-1',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJlIGF0IGFsbCwganVzdCBieXRlcyE=',
        },
        body: JSON.stringify({ account: 'acct-0', amount: 1_000_000 }),
      });
      expect(forged.status).toBe(401);
      expect(await balances()).toEqual(expected);
      const stored = await t.pool.query<{ n: number }>(
        `select count(*)::int as n from "${schema}".inbox_messages`,
      );
      expect(stored.rows[0]!.n).toBe(30);
    });
  },
);
