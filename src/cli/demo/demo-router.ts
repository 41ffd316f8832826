import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Publisher } from '../../core/foundation/publisher.js';
import { type FakeRouter, startFakeRouter } from '../../testing/index.js';

/** The devices the demo's PPPoE commands go to, all served by one fake router. */
export const DEMO_DEVICES = ['tower-1', 'tower-2', 'tower-3'] as const;

/** The fake router and the RouterOS publisher that reaches it through the device registry. */
export interface DemoRouter {
  readonly router: FakeRouter;
  readonly publisher: Publisher;
  /** PPPoE secrets the router holds now. */
  secrets(): number;
}

/**
 * Starts the project's fake RouterOS router, registers `DEMO_DEVICES` for it in the device
 * registry (passwords encrypted with a throw-away key) and builds the RouterOS publisher.
 *
 * @example
 * const { router, publisher } = await startDemoRouter(db, 'outbox');
 */
export async function startDemoRouter(db: Kysely<any>, schema: string): Promise<DemoRouter> {
  const router = await startFakeRouter({
    host: '127.0.0.1',
    users: { api: 'demo-password' },
    profiles: ['50M'],
  });
  const ros = await import('../../publishers/routeros/index.js');
  const cipher = new ros.CredentialsCipher({ key: randomBytes(32) });
  const registry = new ros.DeviceRegistry({ db, schema, cipher });
  for (const name of DEMO_DEVICES) {
    if (!(await registry.get(name))) {
      await registry.add({
        name,
        host: router.host,
        port: router.port,
        username: 'api',
        password: 'demo-password',
      });
    }
  }
  const publisher = new ros.RouterOsPublisher({
    devices: new ros.TableDeviceResolver({ db, schema, cipher }),
    connectTimeoutMs: 5_000,
    commandTimeoutMs: 5_000,
  });
  return { router, publisher, secrets: () => router.state.rows('/ppp/secret').length };
}
