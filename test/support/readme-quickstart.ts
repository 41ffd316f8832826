import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** The README's "Quickstart from npm" program, exactly as a reader copies it. */
export function quickstartSource(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- quickstart:begin[^>]*-->\s*```js\n([\s\S]*?)```\s*<!-- quickstart:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no quickstart block between the quickstart markers');
  return block[1]!;
}

/** A version of a dependency as this repository's lockfile installs it. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  return lock.packages[`node_modules/${name}`].version;
}

/** A fresh app folder holding the quickstart as app.mjs. */
function appFolder(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dir, 'app.mjs'), quickstartSource());
  return dir;
}

/**
 * A new user's app: `npm pack` of this repository, then a fresh folder whose package.json
 * depends on the tarball, kysely and pg, installed by `npm install` (from the npm cache when it
 * can). `--ignore-scripts` on pack: dist/ is built already (`npm test` builds it first) and
 * rebuilding it would rewrite files other tests are running.
 */
export async function packedApp(): Promise<{
  dir: string;
  npmOutput: string;
  packedScripts: Record<string, string>;
}> {
  const dir = appFolder('outbox-relay-quickstart-');
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const tarball = path.join(dir, JSON.parse(stdout)[0].filename);
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'quickstart-app',
      private: true,
      type: 'module',
      dependencies: {
        'outbox-relay': `file:${tarball}`,
        kysely: lockedVersion('kysely'),
        pg: lockedVersion('pg'),
      },
    }),
  );
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
  });
  const packed = JSON.parse(
    fs.readFileSync(path.join(dir, 'node_modules/outbox-relay/package.json'), 'utf8'),
  ) as { scripts?: Record<string, string> };
  return { dir, npmOutput: install.stdout + install.stderr, packedScripts: packed.scripts ?? {} };
}

/**
 * The same app without packing: node_modules links to this repository (its built dist/) and
 * to its kysely and pg, for tests that need the app but not the tarball.
 */
export function linkedApp(): string {
  const dir = appFolder('outbox-relay-app-');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules/outbox-relay'), 'dir');
  for (const name of ['kysely', 'pg'])
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  return dir;
}

/** The quickstart running as a child process, with its output so far. */
export interface RunningApp {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves once the receiver printed `received <id>`; throws when the app exits first or at the deadline. */
  waitForReceived(messageId: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `node app.mjs` in `dir` against `databaseUrl`. */
export function startApp(dir: string, databaseUrl: string): RunningApp {
  const child = spawn(process.execPath, ['app.mjs'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl },
    stdio: 'pipe',
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitForReceived(messageId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const seen = () =>
        out
          .split('\n')
          .some((l) =>
            typeof messageId === 'string' ? l.startsWith(`received ${messageId} `) : messageId.test(l),
          );
      while (!seen()) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the app exited (${child.exitCode ?? child.signalCode}) first:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for "received ${messageId}":\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
