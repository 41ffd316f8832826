import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/foundation/clock.js';
import {
  OutboxError,
  OutboxValidationError,
  PermanentPublishError,
} from '../../src/core/foundation/errors.js';
import type { DeviceConfig } from '../../src/publishers/routeros/device-config.js';
import { RosConnection } from '../../src/publishers/routeros/ros-connection.js';
import { RosLoginError, RosTransportError, RosTrapError } from '../../src/publishers/routeros/ros-errors.js';
import {
  RouterOsPublisher,
  type RouterOsPublisherOptions,
} from '../../src/publishers/routeros/routeros-publisher.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';
import { makeTestCommand, testContext } from '../support/publisher-contract.js';

/** A clock that moves only when the test says so. */
function manualClock(start = Date.parse('2030-01-01T00:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const add = (address: string) => makeTestCommand('address-list.add', { list: 'l', address }, 'tower-1');

describe('RouterOsPublisher', () => {
  let router: FakeRouter;
  let device: DeviceConfig;

  beforeEach(async () => {
    router = await startFakeRouter();
    device = { name: 'tower-1', host: router.host, port: router.port, username: 'admin', password: 'admin' };
  });
  afterEach(async () => {
    await router.close();
  });

  it.each([
    ['devices', { devices: undefined }],
    ['connectTimeoutMs', { connectTimeoutMs: 0 }],
    ['commandTimeoutMs', { commandTimeoutMs: undefined }],
    ['idleTimeoutMs', { idleTimeoutMs: -1 }],
    ['maxConnections', { maxConnections: 1.5 }],
    ['suspendMode', { suspendMode: { profile: '' } }],
    ['clock', { clock: {} }],
  ])('refuses a bad %s with an OutboxValidationError naming it, like the webhook publisher', (field, bad) => {
    const options = { devices: [device], connectTimeoutMs: 1000, commandTimeoutMs: 1000, ...bad };
    let error: unknown;
    try {
      new RouterOsPublisher(options as RouterOsPublisherOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutboxValidationError);
    expect((error as OutboxValidationError).field).toBe(field);
    expect((error as Error).message).toMatch(new RegExp(`^${field}: `));
  });

  it('parks a device whose login was rejected for loginFailureParkMs of the injected clock', async () => {
    const clock = manualClock();
    const publisher = new RouterOsPublisher({
      devices: [device],
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
      loginFailureParkMs: 60_000,
      clock,
    });
    try {
      await router.setMode({ refuseLogins: true });
      expect(await rejection(publisher.publish(add('10.0.0.1'), testContext()))).toBeInstanceOf(
        PermanentPublishError,
      );
      expect(router.stats.failedLogins).toBe(1);

      // Within the park the same credentials fail fast: no second login reaches the router.
      clock.advance(59_000);
      const parked = await rejection(publisher.publish(add('10.0.0.1'), testContext()));
      expect((parked as Error).message).toMatch(/rejected the login recently/);
      expect(router.stats.failedLogins).toBe(1);

      // Past the park (by the injected clock, not the wall clock) the router is asked again.
      await router.setMode({ refuseLogins: false });
      clock.advance(2_000);
      await expect(publisher.publish(add('10.0.0.1'), testContext())).resolves.toMatchObject({
        action: 'created',
      });
      expect(router.stats.logins).toBe(1);
    } finally {
      await publisher.close();
    }
  });
});

describe('RouterOS connection errors', () => {
  let router: FakeRouter;

  beforeEach(async () => {
    router = await startFakeRouter();
  });
  afterEach(async () => {
    await router.close();
  });

  const open = (password = 'admin') =>
    RosConnection.open({
      host: router.host,
      port: router.port,
      username: 'admin',
      password,
      connectTimeoutMs: 2000,
    });

  it('are OutboxErrors with stable codes: ROS_LOGIN_REJECTED, ROS_TRAP, ROS_TRANSPORT', async () => {
    const login = await rejection(open('wrong'));
    expect(login).toBeInstanceOf(RosLoginError);
    expect(login).toBeInstanceOf(OutboxError);
    expect(login).toMatchObject({ code: 'ROS_LOGIN_REJECTED', name: 'RosLoginError' });

    const conn = await open();
    try {
      const trap = await rejection(conn.write('/nope/print', [], { timeoutMs: 2000 }));
      expect(trap).toBeInstanceOf(RosTrapError);
      expect(trap).toBeInstanceOf(OutboxError);
      expect(trap).toMatchObject({ code: 'ROS_TRAP', command: '/nope/print' });
      expect(conn.usable).toBe(true);

      await router.setMode({ drop: 'rst' });
      const transport = await rejection(conn.write('/system/identity/print', [], { timeoutMs: 2000 }));
      expect(transport).toBeInstanceOf(RosTransportError);
      expect(transport).toBeInstanceOf(OutboxError);
      expect(transport).toMatchObject({ code: 'ROS_TRANSPORT', certificate: false });
    } finally {
      conn.destroy();
    }
  });
});
