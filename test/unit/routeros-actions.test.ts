import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import type { SuspendMode } from '../../src/publishers/routeros/actions/routeros-action.js';
import { RouterOsPublisher } from '../../src/publishers/routeros/routeros-publisher.js';
import { makeTestCommand as command, testContext } from '../support/publisher-contract.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe.each([
  ['RouterOS < 7.18', false],
  ['RouterOS >= 7.18 (!empty replies)', true],
])('RouterOS actions against a fake %s router', (_label, emptyReplies) => {
  let router: FakeRouter;
  let publisher: RouterOsPublisher;
  const make = (suspendMode?: SuspendMode) =>
    new RouterOsPublisher({
      devices: [
        { name: 'tower-1', host: router.host, port: router.port, username: 'admin', password: 'admin' },
      ],
      connectTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      suspendMode,
    });

  beforeEach(async () => {
    router = await startFakeRouter({ mode: { emptyReplies }, profiles: ['10M', '20M', 'suspended'] });
    publisher = make();
  });
  afterEach(async () => {
    await publisher.close();
    await router.close();
  });

  it('an empty print returns [] and the create that follows adds the secret', async () => {
    const result = await publisher.publish(
      command('pppoe.create', {
        name: 'alice',
        password: 'pw1',
        profile: '10M',
        'remote-address': '10.0.0.5',
      }),
      testContext(),
    );
    expect(result).toMatchObject({
      device: 'tower-1',
      action: 'created',
      id: expect.stringMatching(/^\*[0-9A-F]+$/),
    });
    expect(router.state.find('/ppp/secret', { name: 'alice' })).toMatchObject({
      '.id': result.id,
      service: 'pppoe',
      password: 'pw1',
      profile: '10M',
      'remote-address': '10.0.0.5',
    });
  });

  it('applying pppoe.create twice leaves one secret and succeeds both times', async () => {
    const params = { name: 'bob', password: 'pw', profile: '10M' };
    const first = await publisher.publish(command('pppoe.create', params), testContext());
    const second = await publisher.publish(
      command('pppoe.create', { ...params, profile: '20M' }),
      testContext(),
    );
    expect(second).toMatchObject({ action: 'updated', id: first.id });
    expect(router.state.rows('/ppp/secret').filter((r) => r.name === 'bob')).toHaveLength(1);
    expect(router.state.find('/ppp/secret', { name: 'bob' })?.profile).toBe('20M');
  });

  it('a create whose add loses a race ("already exists") re-reads and completes', async () => {
    await router.setMode({
      trap: {
        command: '/ppp/secret/add',
        message: 'failure: secret with the same name already exists',
        times: 1,
      },
    });
    const result = await publisher.publish(
      command('pppoe.create', { name: 'carol', password: 'new', profile: '10M' }),
      testContext(),
    );
    expect(result.action).toBe('created');
    expect(router.state.rows('/ppp/secret')).toMatchObject([
      { name: 'carol', password: 'new', profile: '10M' },
    ]);
  });

  it('pppoe.update changes fields and kicks the live session when the profile changes', async () => {
    await publisher.publish(
      command('pppoe.create', { name: 'dave', password: 'pw', profile: '10M' }),
      testContext(),
    );
    router.state.dial('dave', '10.0.0.9');
    await publisher.publish(command('pppoe.update', { name: 'dave', password: 'pw2' }), testContext());
    expect(router.state.rows('/ppp/active')).toHaveLength(1);
    const result = await publisher.publish(
      command('pppoe.update', { name: 'dave', profile: '20M' }),
      testContext(),
    );
    expect(result).toMatchObject({ action: 'updated', kicked: 1 });
    expect(router.state.find('/ppp/secret', { name: 'dave' })).toMatchObject({
      password: 'pw2',
      profile: '20M',
    });
    expect(router.state.rows('/ppp/active')).toHaveLength(0);
  });

  it('pppoe.update of an absent secret is a permanent error', async () => {
    const error = await rejection(
      publisher.publish(command('pppoe.update', { name: 'ghost', profile: '10M' }), testContext()),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(/"ghost" does not exist/);
  });

  it('pppoe.delete removes the secret and its session, and deleting again succeeds', async () => {
    await publisher.publish(
      command('pppoe.create', { name: 'erin', password: 'pw', profile: '10M' }),
      testContext(),
    );
    router.state.dial('erin');
    expect(await publisher.publish(command('pppoe.delete', { name: 'erin' }), testContext())).toMatchObject({
      action: 'deleted',
      kicked: 1,
    });
    expect(await publisher.publish(command('pppoe.delete', { name: 'erin' }), testContext())).toMatchObject({
      action: 'absent',
    });
    expect(router.state.rows('/ppp/secret')).toHaveLength(0);
    expect(router.state.rows('/ppp/active')).toHaveLength(0);
  });

  it('suspend disables and kicks; activate enables; both are repeatable', async () => {
    await publisher.publish(
      command('pppoe.create', { name: 'fay', password: 'pw', profile: '10M' }),
      testContext(),
    );
    router.state.dial('fay');
    for (let i = 0; i < 2; i++)
      await publisher.publish(command('pppoe.suspend', { name: 'fay' }), testContext());
    expect(router.state.find('/ppp/secret', { name: 'fay' })?.disabled).toBe('true');
    expect(router.state.rows('/ppp/active')).toHaveLength(0);
    expect(router.state.dial('fay')).toBeUndefined();
    for (let i = 0; i < 2; i++)
      await publisher.publish(command('pppoe.activate', { name: 'fay' }), testContext());
    expect(router.state.find('/ppp/secret', { name: 'fay' })?.disabled).toBe('false');
  });

  it('suspend to a profile and back needs the plan profile on activate', async () => {
    const profiled = make({ profile: 'suspended' });
    try {
      await profiled.publish(
        command('pppoe.create', { name: 'gus', password: 'pw', profile: '10M' }),
        testContext(),
      );
      await profiled.publish(command('pppoe.suspend', { name: 'gus' }), testContext());
      expect(router.state.find('/ppp/secret', { name: 'gus' })?.profile).toBe('suspended');
      const error = await rejection(
        profiled.publish(command('pppoe.activate', { name: 'gus' }), testContext()),
      );
      expect(error).toBeInstanceOf(PermanentPublishError);
      expect(error.message).toMatch(/params\.profile/);
      await profiled.publish(command('pppoe.activate', { name: 'gus', profile: '10M' }), testContext());
      expect(router.state.find('/ppp/secret', { name: 'gus' })?.profile).toBe('10M');
    } finally {
      await profiled.close();
    }
  });

  it('suspend to an address-list adds one entry; activate removes it', async () => {
    const listed = make({ addressList: 'blocked' });
    try {
      await listed.publish(
        command('pppoe.create', { name: 'hal', password: 'pw', profile: '10M', remoteAddress: '10.1.0.7' }),
        testContext(),
      );
      await listed.publish(command('pppoe.suspend', { name: 'hal' }), testContext());
      await listed.publish(command('pppoe.suspend', { name: 'hal' }), testContext());
      expect(router.state.rows('/ip/firewall/address-list')).toMatchObject([
        { list: 'blocked', address: '10.1.0.7' },
      ]);
      await listed.publish(command('pppoe.activate', { name: 'hal' }), testContext());
      await listed.publish(command('pppoe.activate', { name: 'hal' }), testContext());
      expect(router.state.rows('/ip/firewall/address-list')).toHaveLength(0);
    } finally {
      await listed.close();
    }
  });

  it('queue.set creates then updates one queue with normalised limits; queue.delete is repeatable', async () => {
    const created = await publisher.publish(
      command('queue.set', { name: 'q-alice', target: '10.0.0.5', 'max-limit': '10M/10M' }),
      testContext(),
    );
    expect(created.action).toBe('created');
    await publisher.publish(
      command('queue.set', { name: 'q-alice', target: '10.0.0.5', maxLimit: '20M/5M' }),
      testContext(),
    );
    expect(router.state.rows('/queue/simple')).toMatchObject([
      { name: 'q-alice', target: '10.0.0.5/32', 'max-limit': '20000000/5000000' },
    ]);
    await publisher.publish(command('queue.delete', { name: 'q-alice' }), testContext());
    expect(
      await publisher.publish(command('queue.delete', { name: 'q-alice' }), testContext()),
    ).toMatchObject({
      action: 'absent',
    });
    expect(router.state.rows('/queue/simple')).toHaveLength(0);
  });

  it('address-list.add and .remove are idempotent', async () => {
    const first = await publisher.publish(
      command('address-list.add', { list: 'vip', address: '10.9.9.9' }),
      testContext(),
    );
    const second = await publisher.publish(
      command('address-list.add', { list: 'vip', address: '10.9.9.9' }),
      testContext(),
    );
    expect(first.action).toBe('created');
    expect(second).toMatchObject({ action: 'unchanged', id: first.id });
    await publisher.publish(
      command('address-list.remove', { list: 'vip', address: '10.9.9.9' }),
      testContext(),
    );
    expect(
      await publisher.publish(
        command('address-list.remove', { list: 'vip', address: '10.9.9.9' }),
        testContext(),
      ),
    ).toMatchObject({
      action: 'absent',
    });
  });

  it('raw runs a menu command and returns the rows', async () => {
    await publisher.publish(
      command('raw', { command: '/system/identity/set', attributes: { name: 'tower-1' }, idempotent: true }),
      testContext(),
    );
    const result = await publisher.publish(
      command('raw', { command: '/system/identity/print' }),
      testContext(),
    );
    expect(result.rows).toEqual([{ name: 'tower-1' }]);
  });

  it('reuses one connection and one login for many commands', async () => {
    for (let i = 0; i < 20; i++) {
      await publisher.publish(
        command('address-list.add', { list: 'l', address: `10.0.1.${i}` }),
        testContext(),
      );
    }
    expect(router.stats.logins).toBe(1);
    expect(router.stats.connections).toBe(1);
  });
});

describe('RouterOS command validation and trap mapping', () => {
  let router: FakeRouter;
  let publisher: RouterOsPublisher;
  beforeEach(async () => {
    router = await startFakeRouter({ users: { api: 'right' } });
    publisher = new RouterOsPublisher({
      devices: [
        { name: 'tower-1', host: router.host, port: router.port, username: 'api', password: 'right' },
      ],
      connectTimeoutMs: 1000,
      commandTimeoutMs: 1000,
    });
  });
  afterEach(async () => {
    await publisher.close();
    await router.close();
  });

  it.each([
    ['pppoe.create', { name: 'a', profile: 'default' }, /params\.password: required/],
    [
      'pppoe.create',
      { name: 'a', password: 'x', profile: 'default', remoteAddress: 'nope' },
      /params\.remote-address/,
    ],
    ['pppoe.create', { name: '', password: 'x', profile: 'default' }, /params\.name: must not be empty/],
    ['pppoe.delete', { name: 'a', colour: 'red' }, /params\.colour: unknown parameter/],
    ['queue.set', { name: 'q', target: '10.0.0.1', 'max-limit': 'fast' }, /params\.max-limit/],
    ['raw', { command: '/login' }, /params\.command/],
    ['pppoe.create', 'not an object', /params must be an object/],
    ['pppoe.explode', { name: 'a' }, /unknown RouterOS action "pppoe\.explode"/],
  ])('%s with bad params is a permanent error naming the field', async (type, payload, pattern) => {
    const error = await rejection(publisher.publish(command(type, payload), testContext()));
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(pattern);
    expect(router.stats.commands).toBe(0);
  });

  it('never echoes a password in a validation error', async () => {
    const error = await rejection(
      publisher.publish(
        command('pppoe.create', { name: 'a', password: 'x'.repeat(300), profile: 'default' }),
        testContext(),
      ),
    );
    expect(error.message).toMatch(/params\.password/);
    expect(error.message).not.toContain('xxxx');
  });

  it('maps a value the router refuses to a permanent error with its words', async () => {
    const error = await rejection(
      publisher.publish(
        command('pppoe.create', { name: 'a', password: 'x', profile: 'gold' }),
        testContext(),
      ),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toBe(
      'router "tower-1" refused /ppp/secret/add: input does not match any value of profile',
    );
  });

  it('maps "not enough permissions" to permanent and "interrupted" to transient', async () => {
    await router.setMode({ readOnly: true });
    router.state.seed('/ppp/secret', { name: 'x' });
    const denied = await rejection(publisher.publish(command('pppoe.delete', { name: 'x' }), testContext()));
    expect(denied).toBeInstanceOf(PermanentPublishError);
    expect(denied.message).toMatch(/not enough permissions/);
    await router.setMode({
      readOnly: false,
      trap: { command: '/ppp/secret/print', message: 'interrupted', category: 2 },
    });
    expect(
      await rejection(publisher.publish(command('pppoe.delete', { name: 'x' }), testContext())),
    ).toBeInstanceOf(TransientPublishError);
  });

  it('a rejected login is permanent, names no credentials, and is not retried against the router until they change', async () => {
    const wrong = new RouterOsPublisher({
      devices: [
        { name: 'tower-1', host: router.host, port: router.port, username: 'api', password: 'wrong-pass' },
      ],
      connectTimeoutMs: 1000,
      commandTimeoutMs: 1000,
    });
    try {
      const error = await rejection(wrong.publish(command('pppoe.delete', { name: 'x' }), testContext()));
      expect(error).toBeInstanceOf(PermanentPublishError);
      expect(error.message).toMatch(/login to router "tower-1" failed: wrong user name or password/);
      expect(error.message).not.toContain('wrong-pass');
      const again = await rejection(wrong.publish(command('pppoe.delete', { name: 'x' }), testContext()));
      expect(again).toBeInstanceOf(PermanentPublishError);
      expect(router.stats.failedLogins).toBe(1);
    } finally {
      await wrong.close();
    }
  });

  it('a non-idempotent raw command whose outcome is unknown is dead-lettered, not retried', async () => {
    await router.setMode({ dropAfterApply: 1 });
    const error = await rejection(
      publisher.publish(
        command('raw', { command: '/system/identity/set', attributes: { name: 'x' } }),
        testContext(),
      ),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(/may or may not have been applied/);
  });

  it('refuses a command for a device of another tenant, and for an unknown device', async () => {
    const tenanted = new RouterOsPublisher({
      devices: [
        {
          name: 't',
          host: router.host,
          port: router.port,
          username: 'api',
          password: 'right',
          tenantId: 'a',
        },
      ],
      connectTimeoutMs: 1000,
      commandTimeoutMs: 1000,
    });
    try {
      const message = { ...command('pppoe.delete', { name: 'x' }, 't'), tenantId: 'b' };
      expect((await rejection(tenanted.publish(message, testContext()))).message).toMatch(/another tenant/);
      expect(
        (await rejection(tenanted.publish(command('pppoe.delete', { name: 'x' }, 'nope'), testContext())))
          .message,
      ).toMatch(/unknown router "nope"/);
    } finally {
      await tenanted.close();
    }
  });
});
