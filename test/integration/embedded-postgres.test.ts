import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

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
