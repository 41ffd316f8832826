import type { Queryable } from '../../core/queryable.js';
import type { CredentialsCipher } from './credentials-cipher.js';
import { DeviceRegistry } from './device-registry.js';

/** TLS settings for API-SSL (port 8729). */
export interface DeviceTlsOptions {
  /** PEM CA (or the router's self-signed certificate) to verify the router against. */
  ca?: string;
  /**
   * Pin the router's certificate by its SHA-256 fingerprint: `AA:BB:...` as Node and openssl
   * print it, or `aabb...` as RouterOS' `/certificate print` does (colons and case are ignored).
   */
  fingerprint256?: string;
  /** Host name to verify the certificate for, when it differs from `host`. */
  servername?: string;
  /**
   * api-ssl without a certificate only offers anonymous Diffie-Hellman: allow it. It encrypts
   * but does not authenticate the router; prefer a certificate with `ca` or `fingerprint256`.
   */
  anonymousDh?: boolean;
}

/** How to reach and log into one router. */
export interface DeviceConfig {
  /** The device name commands are addressed to (`addCommand({ device })`). */
  name: string;
  host: string;
  /** Default 8728, or 8729 with TLS. */
  port?: number;
  /** `true` (verify against the system CAs) or TLS options; false/absent for plain API. */
  tls?: boolean | DeviceTlsOptions;
  username: string;
  password: string;
  /** When set, only commands with the same tenant id may use this device. */
  tenantId?: string | null;
  /** A disabled device keeps its commands waiting (transient errors) instead of running them. */
  enabled?: boolean;
}

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

/** Options of `TableDeviceResolver`. */
export interface TableDeviceResolverOptions {
  db: Queryable;
  schema?: string;
  cipher: CredentialsCipher;
  /** How long a looked-up device is reused before reading the table again. Default 5000. */
  cacheTtlMs?: number;
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
  readonly #cache = new Map<string, { at: number; device: Promise<DeviceConfig | undefined> }>();

  constructor(options: TableDeviceResolverOptions) {
    this.#registry = new DeviceRegistry({ db: options.db, schema: options.schema, cipher: options.cipher });
    this.#ttlMs = options.cacheTtlMs ?? DEFAULT_DEVICE_CACHE_TTL_MS;
  }

  resolve(name: string): Promise<DeviceConfig | undefined> {
    const now = Date.now();
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
