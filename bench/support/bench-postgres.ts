import { startEmbeddedPostgres } from '../../src/testing/embedded-postgres.js';

/** The PostgreSQL a benchmark runs against. */
export interface BenchPostgres {
  readonly url: string;
  /** Where it came from, for the run's first line. */
  readonly source: 'DATABASE_URL' | 'embedded-postgres';
  stop(): Promise<void>;
}

/**
 * `DATABASE_URL` when set (a tuned server of your own), else an embedded PostgreSQL with room
 * for many relays and pools at once. synchronous_commit stays on, as in production;
 * startEmbeddedPostgres turns fsync off, which a throw-away bench server never needs.
 */
export async function startBenchPostgres(env: NodeJS.ProcessEnv = process.env): Promise<BenchPostgres> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, source: 'DATABASE_URL', async stop() {} };
  const server = await startEmbeddedPostgres({
    prefix: 'outbox-relay-bench-',
    postgresFlags: ['-c', 'max_connections=300', '-c', 'shared_buffers=256MB'],
  });
  return { ...server, source: 'embedded-postgres' };
}
