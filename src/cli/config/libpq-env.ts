import type { CliConfig, SettingKey } from './settings.js';
import type { SettingSource } from './load-config.js';

/** libpq's connection variables the binary reads when DATABASE_URL is unset, by setting key. */
export const LIBPQ_KEYS = [
  'pgHost',
  'pgPort',
  'pgDatabase',
  'pgUser',
  'pgPassword',
  'pgSslMode',
] as const satisfies readonly SettingKey[];

/** What `config` shows as the source of a DATABASE_URL built from them. */
export const LIBPQ_SOURCE = 'PG* variables';

/**
 * A `postgresql://` URL from libpq's variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
 * PGSSLMODE), or undefined when none is set. Unset parts keep libpq's defaults (localhost,
 * 5432, database named after the user). A socket directory (PGHOST=/var/run/postgresql) goes
 * in `?host=`, which node-postgres reads the same way.
 *
 * @example
 * libpqUrl({ pgHost: 'db', pgUser: 'app', pgPassword: 'pw', pgDatabase: 'app' }) // 'postgresql://app:pw@db/app'
 */
export function libpqUrl(pg: Partial<Pick<CliConfig, (typeof LIBPQ_KEYS)[number]>>): string | undefined {
  if (LIBPQ_KEYS.every((key) => pg[key] === undefined)) return undefined;
  const socket = pg.pgHost?.startsWith('/') === true;
  const url = new URL('postgresql://localhost');
  if (pg.pgHost && !socket) url.hostname = pg.pgHost;
  if (pg.pgPort !== undefined) url.port = String(pg.pgPort);
  if (pg.pgUser) url.username = encodeURIComponent(pg.pgUser);
  if (pg.pgPassword) url.password = encodeURIComponent(pg.pgPassword);
  if (pg.pgDatabase) url.pathname = `/${encodeURIComponent(pg.pgDatabase)}`;
  if (socket) url.searchParams.set('host', pg.pgHost!);
  if (pg.pgSslMode) url.searchParams.set('sslmode', pg.pgSslMode);
  return url.toString();
}

/**
 * Fills DATABASE_URL from libpq's variables when it was not given (flag or env), so a
 * deployment configured the libpq way (`PGHOST=... PGUSER=...`) needs no URL.
 * Called by `loadConfig` before the requirements are checked.
 *
 * @example
 * applyLibpqEnv(config, sources, aliasesUsed);
 */
export function applyLibpqEnv(
  config: CliConfig,
  sources: Record<string, SettingSource>,
  aliasesUsed: Record<string, string>,
): void {
  if (config.databaseUrl !== undefined) return;
  const url = libpqUrl(config);
  if (url === undefined) return;
  config.databaseUrl = url;
  sources.DATABASE_URL = 'env';
  aliasesUsed.DATABASE_URL = LIBPQ_SOURCE;
}
