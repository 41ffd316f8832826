import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type NatsServer, startNatsServer } from '../../bench/support/nats-server.js';
import { readStream } from '../support/nats-stream.js';
import { runCli } from './cli-process.js';

let t: TestDatabase;
let nats: NatsServer;
beforeAll(async () => {
  t = await createTestDatabase();
  // Token auth, so the test also sees the binary pass a credential and keep it out of `config`.
  nats = await startNatsServer({ config: 'authorization { token: "e2e-nats-token-123" }' });
  const nc = await connect({ servers: nats.url, token: 'e2e-nats-token-123' });
  await (await jetstreamManager(nc)).streams.add({ name: 'ORDERS', subjects: ['orders.>', 'outbox.>'] });
  await nc.close();
});
afterAll(async () => {
  await t?.close();
  await nats?.close();
});

it('publish --destination nats:orders.created, then run --drain delivers it to JetStream with Nats-Msg-Id', async () => {
  const env = {
    DATABASE_URL: t.url,
    OUTBOX_SCHEMA: t.schema,
    OUTBOX_PUBLISHER_TYPE: 'nats',
    NATS_URL: nats.url,
    NATS_TOKEN: 'e2e-nats-token-123',
  };
  const published = await runCli(
    ['publish', '--destination', 'nats:orders.created', '--type', 'order.created'],
    env,
  );
  expect(published.code).toBe(0);
  const id = /enqueued 1 messages: (\S+)/.exec(published.stdout)?.[1];
  expect(id).toBeDefined();
  // Destination "default" goes to the first publisher: nats, subject <NATS_SUBJECT_PREFIX>.<type>.
  expect((await runCli(['publish', '--type', 'order.paid'], env)).code).toBe(0);

  const run = await runCli(['run', '--drain'], env);
  expect(run.code, run.stderr).toBe(0);
  const messages = await readStream(nats.url, 'ORDERS', { token: 'e2e-nats-token-123' });
  expect(messages.map((m) => m.subject)).toEqual(['orders.created', 'outbox.order.paid']);
  expect(messages[0]!.msgId).toBe(id);
  const { rows } = await t.pool.query(`select status, result from "${t.schema}".all_messages order by id`);
  expect(rows).toEqual([
    { status: 'delivered', result: { stream: 'ORDERS', seq: 1, duplicate: false } },
    { status: 'delivered', result: { stream: 'ORDERS', seq: 2, duplicate: false } },
  ]);

  const config = await runCli(['config'], env);
  expect(config.stdout).toContain('NATS_TOKEN');
  expect(config.stdout).not.toContain('e2e-nats-token-123');
  expect(run.stdout + run.stderr).not.toContain('e2e-nats-token-123');
});

it('exits 2 listing every NATS problem before touching the database', async () => {
  const r = await runCli(['run', '--drain'], {
    DATABASE_URL: t.url,
    OUTBOX_PUBLISHER_TYPE: 'nats',
    NATS_SUBJECT_PREFIX: 'bad prefix',
    NATS_TOKEN: 'e2e-nats-token-123',
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('NATS_SUBJECT_PREFIX "bad prefix" cannot start a NATS subject');
  expect(r.stderr).toContain('NATS_URL is required when OUTBOX_PUBLISHER_TYPE includes nats');
  expect(r.stderr).not.toContain('e2e-nats-token-123');
});
