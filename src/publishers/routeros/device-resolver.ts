import type { DeviceConfig } from './device-config.js';

/**
 * Finds the connection details of a device by name. Implement it to plug in routers an app
 * already keeps elsewhere; `TableDeviceResolver` reads the outbox `devices` table.
 *
 * @example
 * const resolver: DeviceResolver = {
 *   async resolve(name) {
 *     const r = await myDb.routers.findByName(name);
 *     return r && { name, host: r.ip, username: r.apiUser, password: await vault.get(r.secretRef) };
 *   },
 * };
 */
export interface DeviceResolver {
  /** The device, or undefined when no device has that name. */
  resolve(name: string): Promise<DeviceConfig | undefined>;
  /** Forget anything cached about `name` (called after a failed login, so fixed credentials are picked up). */
  invalidate?(name: string): void;
}
