// The README's quickstart service through what a database failover does to it: every
// connection terminated, then the server restarted. It must neither crash nor stop delivering
// (issue #27: "Unhandled 'error' event ... BoundPool ... idleListener" killed the host service).
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { expect, it } from 'vitest';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { startEmbeddedPostgres } from '../../src/testing/embedded-postgres.js';
import { assertBuildCurrent } from '../e2e/cli-process.js';
import { linkedApp, startApp } from '../support/readme-quickstart.js';
import { waitFor } from '../support/recording-publisher.js';

/** Adds one message for the app's webhook, retrying while the server is coming back. */
async function addMessage(pool: pg.Pool, n: number): Promise<string> {
  const outbox = createOutbox();
  let id = '';
  await waitFor(
    async () => {
      try {
        id = await outbox.add(pool, { type: 'invoice.paid', destination: 'webhook', payload: { n } });
        return true;
      } catch {
        return false; // the server is restarting: the app's relay must ride this out too
      }
    },
    `message ${n} to be added`,
    60_000,
  );
  return id;
}

it('survives every connection terminated and a PostgreSQL restart, and keeps delivering', async () => {
  assertBuildCurrent();
  const server = await startEmbeddedPostgres({ prefix: 'outbox-relay-failover-' });
  const dir = linkedApp();
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  pool.on('error', () => undefined); // the test's own pool is restarted too
  const app = startApp(dir, server.url);
  try {
    await app.waitForReceived(/^received \S+ \{"invoiceId": "inv_1", "amountCents": 4200\}$/, 60_000);
    await waitFor(async () => {
      const { rows } = await pool.query(
        `select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`,
      );
      return rows[0].n >= 1;
    }, 'the app to hold connections');

    // Failover, part 1: every backend of the app is terminated, idle ones included.
    const { rows } = await pool.query(
      `select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()) t`,
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
    const afterTerminate = await addMessage(pool, 1);
    await app.waitForReceived(afterTerminate, 60_000);

    // Part 2: the server goes away and comes back.
    await server.shutdown({ mode: 'fast' });
    await server.start();
    const afterRestart = await addMessage(pool, 2);
    await app.waitForReceived(afterRestart, 60_000);

    expect(app.child.exitCode).toBeNull();
    expect(app.output()).not.toContain("Unhandled 'error' event");
    // Said, not swallowed: the pool's lost idle connections are logged at warn.
    expect(app.output()).toContain('an idle database connection failed');
    const stopping = Date.now();
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    console.log(`[failover] shutdown after SIGTERM: ${Date.now() - stopping} ms`);
  } finally {
    app.child.kill('SIGKILL');
    await pool.end().catch(() => undefined);
    await server.stop();
    fs.rmSync(path.resolve(dir), { recursive: true, force: true });
  }
}, 240_000);
