import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import { CredentialsCipher, CredentialsError } from '../../src/publishers/routeros/credentials-cipher.js';
import { DeviceRegistry } from '../../src/publishers/routeros/device-registry.js';
import { TableDeviceResolver } from '../../src/publishers/routeros/table-device-resolver.js';
import { RouterOsPublisher } from '../../src/publishers/routeros/routeros-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';
import { makeTestCommand, testContext } from '../support/publisher-contract.js';

const key = randomBytes(32).toString('base64');
const PASSWORD = 'Tower-3-api-P4ss';

let t: TestDatabase;
let router: FakeRouter;
let registry: DeviceRegistry;
beforeAll(async () => {
  t = await createTestDatabase();
  router = await startFakeRouter({ users: { api: PASSWORD } });
});
afterAll(async () => {
  await router.close();
  await t.close();
});
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".devices`);
  registry = new DeviceRegistry({ db: t.db, schema: t.schema, cipher: new CredentialsCipher({ key }) });
});

const tower = () => ({
  name: 'tower-3',
  host: router.host,
  port: router.port,
  username: 'api',
  password: PASSWORD,
  tenantId: 'wisp-1',
  notes: 'north hill',
});

describe('device registry', () => {
  it('stores the password encrypted: the column never contains it', async () => {
    await registry.add(tower());
    const { rows } = await t.pool.query(`select * from "${t.schema}".devices`);
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    expect(rows[0].password_encrypted).toMatch(/^v1:[0-9a-f]{8}:/);
  });

  it('list and get never return the password', async () => {
    await registry.add(tower());
    await registry.add({ ...tower(), name: 'tower-4', tenantId: 'wisp-2' });
    const listed = await registry.list();
    expect(listed.map((d) => d.name)).toEqual(['tower-3', 'tower-4']);
    expect(JSON.stringify(listed)).not.toContain(PASSWORD);
    expect(listed[0]).not.toHaveProperty('password');
    expect(await registry.list({ tenantId: 'wisp-2' })).toMatchObject([
      { name: 'tower-4', port: router.port },
    ]);
    expect(await registry.get('tower-3')).toMatchObject({
      host: router.host,
      username: 'api',
      enabled: true,
      notes: 'north hill',
    });
    expect(await registry.get('nope')).toBeUndefined();
  });

  it('decrypts only in memory, for the resolver', async () => {
    await registry.add(tower());
    expect((await registry.resolve('tower-3'))?.password).toBe(PASSWORD);
  });

  it('refuses bad fields and a taken name, naming the field', async () => {
    await registry.add(tower());
    await expect(registry.add(tower())).rejects.toThrow(/name: a device named "tower-3" already exists/);
    await expect(registry.add({ ...tower(), name: 'bad name' })).rejects.toThrow(/^name: /);
    await expect(registry.add({ ...tower(), name: 'x', port: 70000 })).rejects.toThrow(/^port: /);
    await expect(registry.add({ ...tower(), name: 'y', host: '' })).rejects.toThrow(/^host: /);
  });

  it('updates fields, re-encrypting a new password, and removes devices', async () => {
    await registry.add(tower());
    const updated = await registry.update('tower-3', { password: 'new-pass', enabled: false, port: 8729 });
    expect(updated).toMatchObject({ enabled: false, port: 8729 });
    expect((await registry.resolve('tower-3'))?.password).toBe('new-pass');
    await expect(registry.update('nope', { enabled: true })).rejects.toThrow(/no device named "nope"/);
    expect(await registry.remove('tower-3')).toBe(true);
    expect(await registry.remove('tower-3')).toBe(false);
  });

  it('without a key it refuses to store passwords, with a clear message', async () => {
    const keyless = new DeviceRegistry({ db: t.db, schema: t.schema });
    await expect(keyless.add(tower())).rejects.toThrow(/credentials key is required.*OUTBOX_CREDENTIALS_KEY/);
    await registry.add(tower());
    expect(await keyless.list()).toHaveLength(1);
  });

  it('a wrong key fails clearly, and the publisher keeps the command waiting instead of dead-lettering it', async () => {
    await registry.add(tower());
    const wrong = new CredentialsCipher({ key: randomBytes(32) });
    const wrongRegistry = new DeviceRegistry({ db: t.db, schema: t.schema, cipher: wrong });
    const error = await wrongRegistry.resolve('tower-3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as Error).message).toMatch(
      /encrypted with key id [0-9a-f]{8}, but the configured credentials key has id/,
    );

    const publisher = new RouterOsPublisher({
      devices: new TableDeviceResolver({ db: t.db, schema: t.schema, cipher: wrong }),
      connectTimeoutMs: 1000,
      commandTimeoutMs: 1000,
    });
    const failure = await publisher
      .publish(makeTestCommand('pppoe.delete', { name: 'x' }, 'tower-3'), testContext())
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransientPublishError);
    expect((failure as Error).message).toMatch(/cannot read the credentials of router "tower-3"/);
    await publisher.close();
  });

  it('re-encrypts old rows after a key rotation', async () => {
    await registry.add(tower());
    const rotated = new CredentialsCipher({ key: randomBytes(32), previousKeys: [key] });
    const after = new DeviceRegistry({ db: t.db, schema: t.schema, cipher: rotated });
    expect(await after.reEncrypt()).toBe(1);
    expect((await after.get('tower-3'))?.passwordKeyId).toBe(rotated.keyId);
    const onlyNew = new DeviceRegistry({
      db: t.db,
      schema: t.schema,
      cipher: new CredentialsCipher({ key: randomBytes(32) }),
    });
    await expect(onlyNew.resolve('tower-3')).rejects.toThrow(CredentialsError);
    expect((await after.resolve('tower-3'))?.password).toBe(PASSWORD);
  });

  it('a table resolver reuses a looked-up device for cacheTtlMs of the injected clock', async () => {
    await registry.add(tower());
    let now = Date.parse('2030-01-01T00:00:00Z');
    const resolver = new TableDeviceResolver({
      db: t.db,
      schema: t.schema,
      cipher: new CredentialsCipher({ key }),
      cacheTtlMs: 5_000,
      clock: { now: () => new Date(now) },
    });
    expect((await resolver.resolve('tower-3'))?.host).toBe(router.host);
    await registry.update('tower-3', { host: 'tower-3.example.net' });
    now += 4_999;
    expect((await resolver.resolve('tower-3'))?.host).toBe(router.host);
    now += 1;
    expect((await resolver.resolve('tower-3'))?.host).toBe('tower-3.example.net');
  });

  it('a publisher resolving from the table applies commands to the registered router', async () => {
    await registry.add(tower());
    const publisher = new RouterOsPublisher({
      devices: new TableDeviceResolver({
        db: t.db,
        schema: t.schema,
        cipher: new CredentialsCipher({ key }),
      }),
      connectTimeoutMs: 1000,
      commandTimeoutMs: 1000,
    });
    try {
      const result = await publisher.publish(
        makeTestCommand('pppoe.create', { name: 'alice', password: 'x', profile: 'default' }, 'tower-3', {
          tenantId: 'wisp-1',
        }),
        testContext(),
      );
      expect(result.action).toBe('created');
      expect(router.state.find('/ppp/secret', { name: 'alice' })).toBeDefined();
    } finally {
      await publisher.close();
    }
  });
});
