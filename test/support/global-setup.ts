import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/**
 * Starts one PostgreSQL for the whole run and hands its URL to every test file, which then
 * works in a schema of its own (see database.ts). A server that cannot start fails the
 * run here, loudly: integration tests are never skipped for want of a database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('show server_version');
  await client.end();
  console.log(`[test] PostgreSQL ${rows[0]?.server_version} from ${server.source}`);
  project.provide('databaseUrl', server.url);
  return () => server.stop();
}
