import type { DeviceConfig } from './device-config.js';
import type { DeviceResolver } from './device-resolver.js';

/**
 * A fixed list of devices, e.g. from config.
 *
 * @example
 * new StaticDeviceResolver([{ name: 'tower-3', host: '10.0.0.3', username: 'api', password: 'pw' }]);
 */
export class StaticDeviceResolver implements DeviceResolver {
  readonly #devices: Map<string, DeviceConfig>;

  constructor(devices: readonly DeviceConfig[]) {
    this.#devices = new Map(devices.map((d) => [d.name, d]));
  }

  async resolve(name: string): Promise<DeviceConfig | undefined> {
    return this.#devices.get(name);
  }
}
