import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import type { DeviceConfig } from '../../src/publishers/routeros/device-config.js';
import { RouterOsPublisher } from '../../src/publishers/routeros/routeros-publisher.js';
import { makeTestCommand as command, testContext } from '../support/publisher-contract.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';

const add = (address: string, device?: string) => command('address-list.add', { list: 'l', address }, device);

/** Resolves with the error and how long the publish took. */
async function failure(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started };
  }
  throw new Error('expected a rejection');
}

function device(router: FakeRouter, name = 'tower-1'): DeviceConfig {
  return { name, host: router.host, port: router.port, username: 'admin', password: 'admin' };
}

describe('RouterOS connections under failure', () => {
  let router: FakeRouter;
  let publisher: RouterOsPublisher;
  const SLOW_MS = 5_000;

  beforeEach(async () => {
    router = await startFakeRouter();
    publisher = new RouterOsPublisher({
      devices: [device(router)],
      connectTimeoutMs: SLOW_MS,
      commandTimeoutMs: SLOW_MS,
    });
  });
  afterEach(async () => {
    await publisher.close();
    await router.close();
  });

  it('a silent router times out at our deadline, and the next command uses a fresh connection', async () => {
    const quick = new RouterOsPublisher({
      devices: [device(router)],
      connectTimeoutMs: 300,
      commandTimeoutMs: 150,
    });
    try {
      await quick.publish(add('10.0.0.1'), testContext());
      await router.setMode({ silent: true });
      const { error, ms } = await failure(quick.publish(add('10.0.0.2'), testContext()));
      expect(error).toBeInstanceOf(TransientPublishError);
      expect(error.message).toMatch(/no answer within 150 ms/);
      expect(ms).toBeLessThan(1_000);
      await router.setMode({ silent: false });
      await quick.publish(add('10.0.0.3'), testContext());
      expect(router.stats.connections).toBe(2);
      expect(router.state.rows('/ip/firewall/address-list').map((r) => r.address)).toContain('10.0.0.3');
    } finally {
      await quick.close();
    }
  });

  it('a router that never answers the login fails at the connect deadline', async () => {
    await router.setMode({ silent: true });
    const quick = new RouterOsPublisher({
      devices: [device(router)],
      connectTimeoutMs: 200,
      commandTimeoutMs: 200,
    });
    try {
      const { error, ms } = await failure(quick.publish(add('10.0.0.1'), testContext()));
      expect(error).toBeInstanceOf(TransientPublishError);
      expect(error.message).toMatch(/connect and login: no answer within 200 ms/);
      expect(ms).toBeLessThan(1_000);
    } finally {
      await quick.close();
    }
  });

  it('a late reply after a timeout is never taken for the next command’s answer', async () => {
    const quick = new RouterOsPublisher({
      devices: [device(router)],
      connectTimeoutMs: 500,
      commandTimeoutMs: 100,
    });
    try {
      await quick.publish(add('10.0.0.1'), testContext());
      await router.setMode({ delayMs: 250 });
      expect((await failure(quick.publish(add('10.0.0.2'), testContext()))).error).toBeInstanceOf(
        TransientPublishError,
      );
      await router.setMode({ delayMs: 0 });
      const result = await quick.publish(
        command('address-list.add', { list: 'other', address: '10.0.0.9' }),
        testContext(),
      );
      expect(result.action).toBe('created');
      expect(router.state.find('/ip/firewall/address-list', { list: 'other' })?.['.id']).toBe(result.id);
    } finally {
      await quick.close();
    }
  });

  it.each([
    ['a reset (RST)', { drop: 'rst' as const }],
    ['a close (FIN)', { drop: 'fin' as const }],
    ['!fatal', { fatal: 'session terminated on request' }],
  ])('%s mid-command fails at once, not at the deadline, then recovers', async (_label, mode) => {
    await publisher.publish(add('10.0.0.1'), testContext());
    await router.setMode(mode);
    const { error, ms } = await failure(publisher.publish(add('10.0.0.2'), testContext()));
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(ms).toBeLessThan(1_000);
    await router.setMode({ drop: false, fatal: false });
    await publisher.publish(add('10.0.0.2'), testContext());
    expect(router.stats.logins).toBe(2);
  });

  it('a router closing the connection before login fails at once', async () => {
    await router.setMode({ finBeforeLogin: true });
    const { error, ms } = await failure(publisher.publish(add('10.0.0.1'), testContext()));
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(error.message).toMatch(/closed/);
    expect(ms).toBeLessThan(1_000);
  });

  it('an unreachable router is a transient error', async () => {
    await router.setMode({ offline: true });
    const { error } = await failure(publisher.publish(add('10.0.0.1'), testContext()));
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(error.message).toMatch(/ECONNREFUSED/);
    await router.setMode({ offline: false });
    await publisher.publish(add('10.0.0.1'), testContext());
  });

  it('an idle connection timing out does not crash the process and is replaced', async () => {
    const idle = new RouterOsPublisher({
      devices: [device(router)],
      connectTimeoutMs: 500,
      commandTimeoutMs: 500,
      idleTimeoutMs: 1_000,
    });
    try {
      await idle.publish(add('10.0.0.1'), testContext());
      const deadline = Date.now() + 3_000;
      while (router.stats.openConnections > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(router.stats.openConnections).toBe(0);
      await idle.publish(add('10.0.0.2'), testContext());
      expect(router.stats.logins).toBe(2);
    } finally {
      await idle.close();
    }
  });

  it('commands to one device run one at a time, in the order they were given', async () => {
    const addresses = Array.from({ length: 30 }, (_, i) => `10.0.2.${i}`);
    await router.setMode({ delayMs: 1 });
    await Promise.all(addresses.map((a) => publisher.publish(add(a), testContext())));
    const applied = router.state.log
      .filter((e) => e.command.endsWith('/add'))
      .map((e) => e.attributes.address);
    expect(applied).toEqual(addresses);
    expect(router.stats.connections).toBe(1);
  });

  it('bounds open connections across devices and still serves every device', async () => {
    const routers = [router, await startFakeRouter(), await startFakeRouter()];
    const bounded = new RouterOsPublisher({
      devices: routers.map((r, i) => device(r, `d${i}`)),
      connectTimeoutMs: 1_000,
      commandTimeoutMs: 1_000,
      maxConnections: 2,
    });
    try {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => bounded.publish(add(`10.0.3.${i}`, `d${i % 3}`), testContext())),
      );
      expect(bounded.openConnections).toBeLessThanOrEqual(2);
      for (const r of routers) expect(r.state.rows('/ip/firewall/address-list')).toHaveLength(10);
    } finally {
      await bounded.close();
      await routers[1]!.close();
      await routers[2]!.close();
    }
  });
});
