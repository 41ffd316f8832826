import { APPLICATION_NAME_PREFIX } from '../../core/store/index.js';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describeError } from '../../core/foundation/errors.js';
import { guardConnectionErrors } from '../../core/foundation/connection-error-guard.js';
import { type Logger, NOOP_LOGGER } from '../../core/foundation/logger.js';
import { readSchemaState, type SchemaState } from '../../core/migrations/schema-state.js';
import { asCoreLogger, type CliLogger, createCliLogger } from './cli-logger.js';
import type { CommandContext } from '../command.js';
import { loadConfig } from '../config/load-config.js';
import type { CliConfig } from '../config/settings.js';
import { DEFAULT_ONE_SHOT_DB_WAIT_MS, waitForDatabase } from './wait-for-database.js';

/** How long one connection attempt of the startup wait may take (a host that drops packets). */
const PROBE_CONNECT_TIMEOUT_MS = 5_000;
/** PostgreSQL's "wrong password / not allowed" codes: waiting cannot fix them. */
const PERMANENT_CONNECT_CODES = new Set(['28P01', '28000']);

/** The binary's connection: a pg pool and a kysely instance over it. */
export interface CliDatabase {
  readonly pool: pg.Pool;
  readonly db: Kysely<any>;
  close(): Promise<void>;
}

/**
 * Opens the pool the commands share. Idle-client errors (PostgreSQL restarted, a connection
 * killed) are logged instead of crashing the process: the relay's loop retries.
 *
 * @example
 * const database = openDatabase(config.databaseUrl!, { max: 10 }); try { ... } finally { await database.close(); }
 */
export function openDatabase(
  url: string,
  options: { max?: number; logger?: Logger; applicationName?: string } = {},
): CliDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'outbox-relay',
  });
  // The library's own guard: an idle connection's death is a warn line, a checked-out one's a
  // debug line (its failing statement reaches the relay's retry loop), never an uncaught 'error'.
  guardConnectionErrors(pool, options.logger ?? NOOP_LOGGER);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  let closing: Promise<void> | undefined;
  return {
    pool,
    db,
    close() {
      closing ??= db.destroy();
      return closing;
    },
  };
}

/**
 * Host and port of a connection string, for logs: never the user or the password.
 *
 * @example
 * databaseAddress('postgres://app:secret@db.internal:6432/app') // { host: 'db.internal', port: 6432 }
 */
export function databaseAddress(url: string): { host: string; port: number } {
  // The config loader accepts only postgres:// URLs, so this parses.
  const parsed = new URL(url);
  // A socket directory comes as ?host=/var/run/postgresql with an empty URL host.
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  return { host: host.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 5432) };
}

/**
 * Waits until the database answers (see `waitForDatabase`), logging each failed attempt once
 * at warn with host and port only, and resolves with the schema's state (its migration version
 * and the oldest relays it lets in); or with
 * `undefined` when `signal` aborts. Each attempt is one short-lived connection with a connect
 * timeout, so a host that drops packets is retried (and logged) like one that refuses.
 *
 * @example
 * const state = await waitForCliDatabase(config.databaseUrl!, { schema, timeoutMs: 60_000, logger });
 */
export async function waitForCliDatabase(
  url: string,
  options: { schema: string; timeoutMs: number | undefined; logger: Logger; signal?: AbortSignal },
): Promise<SchemaState | undefined> {
  const { host, port } = databaseAddress(url);
  return waitForDatabase(
    async () => {
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: PROBE_CONNECT_TIMEOUT_MS,
      });
      // The failed connect or query rejects below; the event only needs a listener.
      client.on('error', () => undefined);
      try {
        await client.connect();
        return await readSchemaState(client, { schema: options.schema });
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    {
      timeoutMs: options.timeoutMs,
      address: `${host}:${port}`,
      ...(options.signal ? { signal: options.signal } : {}),
      isPermanent: (error) => PERMANENT_CONNECT_CODES.has(String((error as { code?: unknown }).code)),
      onRetry: ({ error, attempt, retryInMs }) =>
        options.logger.warn(
          { host, port, attempt, retryInMs, err: describeError(error) },
          'database not reachable yet: waiting',
        ),
    },
  );
}

/** What a database command gets from `withCommandDatabase`. */
export interface CommandRuntime {
  readonly config: CliConfig;
  readonly database: CliDatabase;
  readonly logger: CliLogger;
}

/**
 * Loads the config (DATABASE_URL required; exit 2 on any problem, before connecting), waits
 * for the database (DB_WAIT_TIMEOUT_MS, 60 s by default), opens the pool, runs `fn`, and always closes the pool. Logs go to stderr so stdout carries only
 * the command's output (`stats --json | jq`).
 *
 * @example
 * return withCommandDatabase(ctx, async ({ config, database }) => { ...; return EXIT_OK; });
 */
export async function withCommandDatabase<T>(
  ctx: CommandContext,
  fn: (runtime: CommandRuntime) => Promise<T>,
  options: { logFd?: 1 | 2; poolSize?: number } = {},
): Promise<T> {
  const { config } = loadConfig(ctx.env, ctx.flags, {
    requireDatabase: true,
    isTty: ctx.stderr.isTTY === true,
  });
  const logger = createCliLogger({
    level: config.logLevel,
    pretty: config.logPretty,
    fd: options.logFd ?? 2,
  });
  await waitForCliDatabase(config.databaseUrl!, {
    schema: config.schema,
    timeoutMs: config.dbWaitTimeoutMs ?? DEFAULT_ONE_SHOT_DB_WAIT_MS,
    logger: asCoreLogger(logger),
  });
  const database = openDatabase(config.databaseUrl!, {
    max: options.poolSize ?? 4,
    logger: asCoreLogger(logger),
    applicationName: `${APPLICATION_NAME_PREFIX}${config.workerId}`,
  });
  try {
    return await fn({ config, database, logger });
  } finally {
    await database.close();
  }
}
