import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/testing/embedded-postgres.js';
import { waitFor } from '../support/recording-publisher.js';
import { runCli, spawnCli } from './cli-process.js';

const WAITING = 'database not reachable yet: waiting';
/** The binary runs through tsx: on a loaded 2-core box its start alone can take 20 s and more. */
const START_MS = 90_000;

async function status(url: string): Promise<number> {
  return (await fetch(url)).status;
}

async function deliveredCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select count(*)::int as n from outbox.all_messages where status = 'delivered'`,
    );
    return (rows[0] as { n: number }).n;
  } finally {
    await client.end();
  }
}

// A PostgreSQL of this file's own, stopped and started by the tests; the suite's stays up.
describe('outbox-relay start before its database is up', { timeout: 3 * START_MS }, () => {
  let server: EmbeddedPostgres;
  beforeAll(async () => {
    server = await startEmbeddedPostgres({ prefix: 'outbox-relay-dbwait-' });
    expect((await runCli(['migrate'], { DATABASE_URL: server.url })).code).toBe(0);
    await server.shutdown();
  }, 2 * START_MS);
  afterAll(() => server?.stop());

  it('stays up answering /healthz 200 and /readyz 503, then relays once PostgreSQL starts', async () => {
    const p = spawnCli(['start'], {
      DATABASE_URL: server.url,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      POLL_INTERVAL_MS: '50',
    });
    try {
      const { port } = await p.waitForLog(
        (l) => l.msg === 'HTTP endpoint listening',
        'the HTTP endpoint',
        START_MS,
      );
      const base = `http://127.0.0.1:${port}`;
      // Two failed attempts: it retried instead of exiting.
      await p.waitForLog(
        (l) => l.msg === WAITING && l.attempt === 2,
        'a second connection attempt',
        START_MS,
      );
      expect(await status(`${base}/healthz`)).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        status: 'not ready',
        reason: `waiting for the database at 127.0.0.1:${server.port}`,
      });
      expect(p.child.exitCode).toBeNull();
      const warnings = p.logs().filter((l) => l.msg === WAITING);
      for (const w of warnings) {
        expect(w).toMatchObject({ level: 40, host: '127.0.0.1', port: server.port });
        expect(JSON.stringify(w)).not.toContain('outbox-relay@'); // the URL's password
      }
      // One line per attempt, numbered 1, 2, 3...
      expect(warnings.map((w) => w.attempt)).toEqual(warnings.map((_, i) => i + 1));

      await server.start();
      await p.waitForLog((l) => l.msg === 'outbox-relay started', 'the relay to start', START_MS);
      expect(await status(`${base}/readyz`)).toBe(200);
      // The jobs and the relay started after the endpoint: it serves them now.
      expect(await status(`${base}/api/jobs/status`)).toBe(200);
      expect(
        (await runCli(['publish', '--count', '1', '--type', 'e2e.waited'], { DATABASE_URL: server.url }))
          .code,
      ).toBe(0);
      await waitFor(async () => (await deliveredCount(server.url)) === 1, 'the published message delivered');
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      await server.shutdown();
    }
  });

  it('exits 0 at once on SIGTERM while waiting', async () => {
    const p = spawnCli(['start'], { DATABASE_URL: server.url, LOG_LEVEL: 'info' });
    await p.waitForLog((l) => l.msg === WAITING, 'the first failed attempt', START_MS);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toBe('');
    expect(p.logs().some((l) => l.msg === 'stopping while waiting for the database')).toBe(true);
  });

  it.each([
    ['start', ['start'], '1500'],
    ['run', ['run'], '0'],
  ])('%s gives up after DB_WAIT_TIMEOUT_MS with exit 1 and one line', async (name, args, timeoutMs) => {
    const r = await runCli(args, {
      DATABASE_URL: server.url,
      DB_WAIT_TIMEOUT_MS: timeoutMs,
      LOG_LEVEL: 'error',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^outbox-relay ${name}: DatabaseWaitTimeoutError\\[DB_WAIT_TIMEOUT\\]: the database at 127\\.0\\.0\\.1:${server.port} did not answer within ${timeoutMs} ms \\(\\d+ attempts; last: .*ECONNREFUSED.*\\)\\n$`,
      ),
    );
    expect(r.stderr).not.toContain('outbox-relay@');
  });
});
