import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli } from './cli-process.js';

let t: TestDatabase;
let router: FakeRouter;
const ROUTER_PASSWORD = 'tower-api-Secret-42';
beforeAll(async () => {
  t = await createTestDatabase();
  router = await startFakeRouter({ users: { api: ROUTER_PASSWORD }, profiles: ['10M'] });
});
afterAll(async () => {
  await router.close();
  await t.close();
});

it('registers a device with an encrypted password, provisions it through `run`, and removes it', async () => {
  const env = {
    DATABASE_URL: t.url,
    OUTBOX_SCHEMA: t.schema,
    OUTBOX_CREDENTIALS_KEY: randomBytes(32).toString('base64'),
    OUTBOX_PUBLISHER_TYPE: 'routeros',
  };
  const add = await runCli(
    [
      'devices',
      'add',
      '--name',
      'tower-3',
      '--host',
      router.host,
      '--port',
      String(router.port),
      '--username',
      'api',
      '--password',
      ROUTER_PASSWORD,
      '--tenant',
      'wisp-1',
    ],
    env,
  );
  expect(add.code, add.stderr).toBe(0);
  const { rows } = await t.pool.query(`select * from "${t.schema}".devices`);
  expect(JSON.stringify(rows)).not.toContain(ROUTER_PASSWORD);

  const list = await runCli(['devices', 'list', '--json'], env);
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout)).toEqual([
    expect.objectContaining({ name: 'tower-3', host: router.host, tenantId: 'wisp-1' }),
  ]);
  expect(list.stdout + list.stderr).not.toContain(ROUTER_PASSWORD);

  await createOutbox({ schema: t.schema }).addCommand(t.db, {
    device: 'tower-3',
    action: 'pppoe.create',
    params: { name: 'alice', password: 'pppoe-pw', profile: '10M' },
    tenantId: 'wisp-1',
  });
  const run = await runCli(['run', '--drain'], env);
  expect(run.code, run.stderr).toBe(0);
  expect(router.state.rows('/ppp/secret')).toEqual([
    expect.objectContaining({ name: 'alice', profile: '10M', service: 'pppoe' }),
  ]);
  expect(run.stdout + run.stderr).not.toContain(ROUTER_PASSWORD);

  const wrongKey = await runCli(['run', '--drain'], { ...env, OUTBOX_CREDENTIALS_KEY: 'not a key' });
  expect(wrongKey.code).toBe(2);
  expect(wrongKey.stderr).toContain('OUTBOX_CREDENTIALS_KEY');

  expect((await runCli(['devices', 'remove', 'tower-3'], env)).code).toBe(0);
  expect(JSON.parse((await runCli(['devices', 'list', '--json'], env)).stdout)).toEqual([]);
});
