import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from '../core/logger.js';
import { asCoreLogger, type CliLogger, createCliLogger } from './cli-logger.js';
import type { CommandContext } from './command.js';
import { loadConfig } from './load-config.js';
import type { CliConfig } from './settings.js';

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
  pool.on('error', (error) =>
    options.logger?.warn({ err: error.message }, 'idle database connection failed'),
  );
  // pg-pool listens for errors only on idle clients. A client checked out by kysely when
  // PostgreSQL restarts emits 'error' besides failing its query; with no listener that is
  // an uncaught exception that kills the process. The failed query already reaches the
  // relay's retry loop, so the event only needs a listener.
  pool.on('connect', (client) => {
    client.on('error', (error) =>
      options.logger?.debug({ err: error.message }, 'database connection failed while in use'),
    );
  });
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

/** What a database command gets from `withCommandDatabase`. */
export interface CommandRuntime {
  readonly config: CliConfig;
  readonly database: CliDatabase;
  readonly logger: CliLogger;
}

/**
 * Loads the config (DATABASE_URL required; exit 2 on any problem, before connecting), opens
 * the pool, runs `fn`, and always closes the pool. Logs go to stderr so stdout carries only
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
  const database = openDatabase(config.databaseUrl!, {
    max: options.poolSize ?? 4,
    logger: asCoreLogger(logger),
    applicationName: `outbox-relay:${config.workerId}`,
  });
  try {
    return await fn({ config, database, logger });
  } finally {
    await database.close();
  }
}
