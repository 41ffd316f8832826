import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/testing/embedded-postgres.js';
import { EmbeddedPostgresError } from '../../src/testing/embedded-postgres-error.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

// A process that used the embedded server must keep the exit code it set: vitest sets
// process.exitCode = 1 after failed tests, and the package's exit hook used to replace it
// with process.exit(0), so CI saw failed tests as green.
it('keeps the exit code of a process that started and stopped an embedded PostgreSQL', async () => {
  const script = `
    import { startEmbeddedPostgres } from './src/testing/embedded-postgres.ts';
    const server = await startEmbeddedPostgres({ prefix: 'outbox-relay-exitcode-' });
    await server.stop();
    process.exitCode = 3;
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect({ code, stderr }).toEqual({ code: 3, stderr: '' });
}, 60_000);

it('reports a server that cannot start as an EmbeddedPostgresError with its output, and removes its data', async () => {
  const prefix = `outbox-relay-badflag-${process.pid}-`;
  const error = await startEmbeddedPostgres({ prefix, postgresFlags: ['-c', 'no_such_setting=1'] }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmbeddedPostgresError);
  expect((error as EmbeddedPostgresError).code).toBe('EMBEDDED_POSTGRES_FAILED');
  expect((error as Error).message).toMatch(/^embedded PostgreSQL: the server exited while starting/);
  expect((error as Error).message).toContain('unrecognized configuration parameter "no_such_setting"');
  expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(prefix))).toEqual([]);
});

// As root the server runs as `postgres`, which cannot enter a 0700 temp dir: one clear error.
// As anyone else it runs as that user, who can: it starts.
it('names the directory the server user cannot reach, or starts when it runs as this user', async () => {
  const privateTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-relay-private-tmp-'));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { startEmbeddedPostgres } from './src/testing/embedded-postgres.ts';
       try { const s = await startEmbeddedPostgres(); await s.stop(); console.log('started'); }
       catch (e) { console.log(e.code + ': ' + e.message); }`,
    ],
    { cwd: ROOT, env: { ...process.env, TMPDIR: privateTmp }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  await new Promise((resolve) => child.on('exit', resolve));
  fs.rmSync(privateTmp, { recursive: true, force: true });
  if (process.getuid?.() === 0) {
    expect(stdout).toContain('EMBEDDED_POSTGRES_UNREACHABLE: PostgreSQL runs as the "postgres" user');
    expect(stdout).toContain(`blocked at ${privateTmp}`);
    expect(stdout).toContain('Set TMPDIR to a directory others can enter');
  } else {
    expect(stdout).toBe('started\n');
  }
}, 60_000);
