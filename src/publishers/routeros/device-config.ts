/** Default RouterOS API port (plain `api`). */
export const ROUTEROS_API_PORT = 8728;
/** Default RouterOS API-SSL port (`api-ssl`). */
export const ROUTEROS_API_SSL_PORT = 8729;

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
 * The port to dial: the device's own, else 8729 with TLS and 8728 without.
 *
 * @example
 * routerOsPort({ tls: true }) // 8729
 */
export function routerOsPort(device: Pick<DeviceConfig, 'port' | 'tls'>): number {
  return device.port ?? (device.tls ? ROUTEROS_API_SSL_PORT : ROUTEROS_API_PORT);
}
