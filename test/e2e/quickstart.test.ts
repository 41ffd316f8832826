// The README's "Quickstart from npm", run as a new user runs it: from the packed tarball, in a
// fresh app folder, against a database of its own (issue #27).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { packedApp, startApp } from '../support/readme-quickstart.js';
import { assertBuildCurrent } from './cli-process.js';

const run = promisify(execFile);

describe('the README quickstart, from a packed tarball', () => {
  let app: Awaited<ReturnType<typeof packedApp>>;
  let databaseUrl: string;
  const database = `quickstart_${randomBytes(4).toString('hex')}`;
  const admin = () => new pg.Client({ connectionString: inject('databaseUrl') });

  beforeAll(async () => {
    assertBuildCurrent();
    app = await packedApp();
    const client = admin();
    await client.connect();
    await client.query(`create database ${database}`);
    await client.end();
    const url = new URL(inject('databaseUrl'));
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }, 300_000);

  afterAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`drop database if exists ${database} with (force)`);
    await client.end();
    if (app) fs.rmSync(app.dir, { recursive: true, force: true });
  });

  it('installs without build or install scripts, and require() says it is ESM-only', async () => {
    expect(Object.keys(app.packedScripts)).not.toContain('prepare');
    expect(Object.keys(app.packedScripts)).toContain('prepack');
    expect(app.npmOutput).not.toMatch(/install script|prepare/i);
    const required = await run(process.execPath, ['-e', "require('outbox-relay')"], { cwd: app.dir }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(required.code).toBe(1);
    expect(required.stderr).toContain('outbox-relay is ESM-only: use `import');
    expect(required.stderr).not.toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('delivers its event to its local receiver, and stops at once on SIGTERM', async () => {
    const p = startApp(app.dir, databaseUrl);
    try {
      await p.waitForReceived(
        /^received [0-9a-f-]{36} \{"invoiceId": "inv_1", "amountCents": 4200\}$/,
        60_000,
      );
      const stopping = Date.now();
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      const shutdownMs = Date.now() - stopping;
      console.log(`[quickstart] shutdown after SIGTERM: ${shutdownMs} ms`);
      // The pool's idle timeout is 10 s: an app that did not end its pool would linger that long.
      expect(shutdownMs).toBeLessThan(5_000);
      const loud = p
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{') && JSON.parse(l).level >= 40);
      expect(loud).toEqual([]);
    } finally {
      p.child.kill('SIGKILL');
    }
  }, 90_000);
});
