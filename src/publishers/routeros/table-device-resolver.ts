import { type Clock, SystemClock } from '../../core/foundation/clock.js';
import type { Queryable } from '../../core/foundation/queryable.js';
import type { CredentialsCipher } from './credentials-cipher.js';
import type { DeviceConfig } from './device-config.js';
import { DeviceRegistry } from './device-registry.js';
import type { DeviceResolver } from './device-resolver.js';

/** Options of `TableDeviceResolver`. */
export interface TableDeviceResolverOptions {
  db: Queryable;
  schema?: string;
  cipher: CredentialsCipher;
  /** How long a looked-up device is reused before reading the table again. Default 5000. */
  cacheTtlMs?: number;
  /** Source of "now" for the cache's age; default the wall clock. */
  clock?: Clock;
}

/** Default time a device read from the table is reused. */
export const DEFAULT_DEVICE_CACHE_TTL_MS = 5_000;

/**
 * Resolves devices from the outbox `devices` table, decrypting the password in memory only.
 * Lookups are cached briefly so a burst of commands costs one query per device.
 *
 * @example
 * const devices = new TableDeviceResolver({ db, cipher: new CredentialsCipher({ key }) });
 * new RouterOsPublisher({ devices, connectTimeoutMs: 5000, commandTimeoutMs: 10000 });
 */
export class TableDeviceResolver implements DeviceResolver {
  readonly #registry: DeviceRegistry;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { at: number; device: Promise<DeviceConfig | undefined> }>();

  constructor(options: TableDeviceResolverOptions) {
    this.#registry = new DeviceRegistry({ db: options.db, schema: options.schema, cipher: options.cipher });
    this.#ttlMs = options.cacheTtlMs ?? DEFAULT_DEVICE_CACHE_TTL_MS;
    this.#clock = options.clock ?? new SystemClock();
  }

  resolve(name: string): Promise<DeviceConfig | undefined> {
    const now = this.#clock.now().getTime();
    const hit = this.#cache.get(name);
    if (hit && now - hit.at < this.#ttlMs) return hit.device;
    const device = this.#registry.resolve(name);
    this.#cache.set(name, { at: now, device });
    // A failed lookup must not be cached: the next command asks the database again.
    device.catch(() => this.#cache.delete(name));
    return device;
  }

  invalidate(name: string): void {
    this.#cache.delete(name);
  }
}
