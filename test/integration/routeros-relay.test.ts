import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import type { OutboxMessage } from '../../src/core/foundation/message.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay, type Relay } from '../../src/core/relay/relay.js';
import { CredentialsCipher } from '../../src/publishers/routeros/credentials-cipher.js';
import { DeviceRegistry } from '../../src/publishers/routeros/device-registry.js';
import { TableDeviceResolver } from '../../src/publishers/routeros/table-device-resolver.js';
import { RouterOsPublisher } from '../../src/publishers/routeros/routeros-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testContext } from '../support/publisher-contract.js';
import { waitFor } from '../support/recording-publisher.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';

const cipher = new CredentialsCipher({ key: randomBytes(32) });
let t: TestDatabase;
let routers: FakeRouter[];

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 20 });
  routers = await Promise.all(
    [0, 1, 2].map(() => startFakeRouter({ users: { api: 'pw' }, profiles: ['10M', '20M'] })),
  );
  const registry = new DeviceRegistry({ db: t.db, schema: t.schema, cipher });
  for (const [i, r] of routers.entries()) {
    await registry.add({ name: `tower-${i}`, host: r.host, port: r.port, username: 'api', password: 'pw' });
  }
});
afterAll(async () => {
  for (const r of routers) await r.close();
  await t.close();
});

function publisher() {
  return new RouterOsPublisher({
    devices: new TableDeviceResolver({ db: t.db, schema: t.schema, cipher }),
    connectTimeoutMs: 500,
    commandTimeoutMs: 500,
  });
}

function relay(routeros: RouterOsPublisher): Relay {
  return createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { routeros },
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
    concurrency: 16,
    leaseMs: 10_000,
    retry: { baseDelayMs: 10, factor: 2, maxDelayMs: 100, jitter: 0 },
  });
}

async function counts(): Promise<Record<string, number>> {
  const { rows } = await t.pool.query(
    `select status, count(*)::int as n from "${t.schema}".all_messages group by status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Records delivery order per device, to check that each device saw its commands in id order. */
function orderRecorder(r: Relay): Map<string, bigint[]> {
  const seen = new Map<string, bigint[]>();
  r.on('delivered', (m: OutboxMessage) => {
    const list = seen.get(m.orderingKey!) ?? [];
    list.push(BigInt(m.id));
    seen.set(m.orderingKey!, list);
  });
  return seen;
}

function expectAscending(seen: Map<string, bigint[]>): void {
  for (const [device, ids] of seen) {
    const sorted = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(ids, `delivery order of ${device}`).toEqual(sorted);
  }
}

describe('RouterOS commands through the outbox and relay', () => {
  it('runs create -> suspend -> activate -> update -> delete for 200 customers on 3 routers, with duplicates and redeliveries', async () => {
    const outbox = createOutbox({ schema: t.schema });
    const CUSTOMERS = 200;
    const device = (i: number) => `tower-${i % 3}`;
    const name = (i: number) => `cust-${i}`;
    const kept = (i: number) => i % 5 === 0;
    const steps: ((i: number) => { action: string; params: Record<string, unknown> })[] = [
      (i) => ({
        action: 'pppoe.create',
        params: {
          name: name(i),
          password: `p${i}`,
          profile: '10M',
          remoteAddress: `10.20.${i >> 8}.${i & 255}`,
        },
      }),
      (i) => ({ action: 'pppoe.suspend', params: { name: name(i) } }),
      (i) => ({ action: 'pppoe.activate', params: { name: name(i) } }),
      (i) => ({ action: 'pppoe.update', params: { name: name(i), password: `p${i}b`, profile: '20M' } }),
      (i) => ({ action: 'pppoe.delete', params: { name: name(i) } }),
    ];
    let total = 0;
    await t.db.transaction().execute(async (trx) => {
      for (const [s, step] of steps.entries()) {
        for (let i = 0; i < CUSTOMERS; i++) {
          if (s === 4 && kept(i)) continue;
          const command = { device: device(i), ...step(i) };
          await outbox.addCommand(trx, command);
          total++;
          // The same command written twice (a double click, a retried request).
          if (i % 7 === 0 && s === 3) {
            await outbox.addCommand(trx, command);
            total++;
          }
        }
      }
    });

    // A relay that died after the router applied: these creates reached the routers, but
    // their rows are still pending, so the relay below delivers them again.
    const earlier = publisher();
    const { rows: pending } = await t.pool.query(
      `select * from "${t.schema}".messages where type = 'pppoe.create' order by id limit 20`,
    );
    for (const row of pending) {
      await earlier.publish(
        {
          id: String(row.id),
          messageId: row.message_id,
          kind: 'command',
          type: row.type,
          destination: row.destination,
          tenantId: row.tenant_id,
          orderingKey: row.ordering_key,
          payload: row.payload,
          body: JSON.stringify(row.payload),
          headers: {},
          attempts: 1,
          maxAttempts: 25,
          createdAt: row.created_at,
        },
        testContext(),
      );
    }
    await earlier.close();
    // And connections that break right after the router applied a write.
    await routers[0]!.setMode({ dropAfterApply: 5 });
    await routers[2]!.setMode({ dropAfterApply: 3 });

    const r = relay(publisher());
    const seen = orderRecorder(r);
    let failed = 0;
    r.on('failed', () => failed++);
    r.start();
    try {
      await waitFor(async () => (await counts()).delivered === total, `${total} commands delivered`, 60_000);
    } finally {
      await r.stop();
    }
    expect(await counts()).toEqual({ delivered: total });
    expect(failed).toBeGreaterThanOrEqual(8);
    expectAscending(seen);

    for (let i = 0; i < CUSTOMERS; i++) {
      const router = routers[i % 3]!;
      const secret = router.state.find('/ppp/secret', { name: name(i) });
      if (kept(i)) {
        expect(secret, name(i)).toMatchObject({
          password: `p${i}b`,
          profile: '20M',
          disabled: 'false',
          service: 'pppoe',
        });
      } else {
        expect(secret, name(i)).toBeUndefined();
      }
    }
    for (const router of routers) {
      expect(router.state.rows('/ppp/secret')).toHaveLength(router === routers[0] ? 14 : 13);
    }
    const { rows: results } = await t.pool.query(
      `select result from "${t.schema}".all_messages where type = 'pppoe.create' and result is not null limit 1`,
    );
    expect(results[0].result).toMatchObject({
      device: expect.stringMatching(/^tower-/),
      id: expect.stringMatching(/^\*/),
    });
  });

  it('keeps commands for an offline router waiting and applies them in order when it returns', async () => {
    await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
    const router = routers[1]!;
    await router.setMode({ offline: true, dropAfterApply: 0 });
    const outbox = createOutbox({ schema: t.schema });
    const addresses = Array.from({ length: 20 }, (_, i) => `10.99.0.${i}`);
    for (const address of addresses) {
      await outbox.addCommand(t.db, {
        device: 'tower-1',
        action: 'address-list.add',
        params: { list: 'offline', address },
      });
    }
    await outbox.addCommand(t.db, {
      device: 'tower-1',
      action: 'address-list.remove',
      params: { list: 'offline', address: '10.99.0.3' },
    });

    const r = relay(publisher());
    const seen = orderRecorder(r);
    let failed = 0;
    r.on('failed', () => failed++);
    r.start();
    try {
      await waitFor(() => failed >= 3, 'a few failed attempts while the router is offline', 10_000);
      expect((await counts()).delivered ?? 0).toBe(0);
      await router.setMode({ offline: false });
      await waitFor(
        async () => (await counts()).delivered === 21,
        'all commands delivered after the router returned',
        20_000,
      );
    } finally {
      await r.stop();
    }
    expectAscending(seen);
    const applied = router.state.log.filter(
      (e) => e.attributes.list === 'offline' && e.command.endsWith('/add'),
    );
    expect(applied.map((e) => e.attributes.address)).toEqual(addresses);
    expect(router.state.rows('/ip/firewall/address-list').filter((e) => e.list === 'offline')).toHaveLength(
      19,
    );
  });
});
