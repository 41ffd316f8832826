import { startEmbeddedPostgres } from '../../src/testing/embedded-postgres.js';

/** A running PostgreSQL the tests (or a benchmark) can connect to. */
export interface PostgresServer {
  readonly url: string;
  /** How it was obtained, for the suite's first log line. */
  readonly source: 'DATABASE_URL' | 'embedded-postgres' | 'testcontainers';
  stop(): Promise<void>;
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
  const server = await startEmbeddedPostgres({
    prefix: 'outbox-relay-test-',
    // Room for many relays and pools at once; synchronous_commit stays on, as in production.
    postgresFlags: ['-c', 'max_connections=300', '-c', 'shared_buffers=256MB'],
  });
  return { ...server, source: 'embedded-postgres' };
}
