import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
/** The binary as `npm run build` makes it (also run by `npm test` through `pretest`, and by `npm pack`). */
const BUILT_MAIN = path.join(ROOT, 'dist/cli/main.js');

/** The real binary, run from source the way `npm run demo` runs it. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Parsed JSON log lines from stdout so far. */
  readonly logs: () => Array<Record<string, any>>;
  readonly exited: Promise<number | null>;
  /** Resolves with the first log line matching, or throws after `timeoutMs`. */
  waitForLog(
    match: (line: Record<string, any>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, any>>;
}

/** Environment for the binary: only what the test gives, plus PATH (no DATABASE_URL leaks in). */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_PRETTY: 'false', ...env };
}

/** Whether dist/ was built after the last change under src/. */
function buildIsCurrent(): boolean {
  const built = fs.existsSync(BUILT_MAIN) ? fs.statSync(BUILT_MAIN).mtimeMs : 0;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs;
      }),
    );
  return built >= newest(path.join(ROOT, 'src'));
}

/**
 * Throws unless dist/ was built after the last change under src/: a test of the built binary
 * must not pass or fail on yesterday's build.
 */
export function assertBuildCurrent(): void {
  if (!buildIsCurrent())
    throw new Error('dist/ is missing or older than src/: run `npm run build` before this test');
}

let preferBuilt: boolean | undefined;

/**
 * Spawns `outbox-relay <args>` with `env`: the built binary with `built: true`, from source with
 * `built: false`, and by default the built one when dist/ is current (`npm test` builds first),
 * else from source. The same code either way; tsx's start-up cost 5 s per spawn against 2 s on a
 * busy 2-core box, and the e2e suite spawns the binary over a hundred times.
 */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
  options: { built?: boolean } = {},
): CliProcess {
  preferBuilt ??= buildIsCurrent();
  const built = options.built ?? preferBuilt;
  const command = built ? [BUILT_MAIN, ...args] : ['--import', 'tsx', MAIN, ...args];
  const child = spawn(process.execPath, command, {
    cwd: ROOT,
    env: cliEnv(env),
    stdio: 'pipe',
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logs = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, any>];
        } catch {
          return [];
        }
      });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    logs,
    exited,
    async waitForLog(match, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs().find(match);
        if (hit) return hit;
        if (child.exitCode !== null)
          throw new Error(`process exited (${child.exitCode}) before ${what}\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** Runs `outbox-relay <args>` to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * A fresh migrated schema per call, with the env a binary needs to use it; every one is
 * dropped after the file's tests (for `describe.concurrent` suites, one database per test).
 *
 * @example
 * const fresh = freshDatabases(); it('...', async () => { const { t, env } = await fresh(); });
 */
export function freshDatabases(): () => Promise<{
  t: TestDatabase;
  env: { DATABASE_URL: string; OUTBOX_SCHEMA: string };
}> {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const t of dbs) await t.close();
  });
  return async () => {
    const t = await createTestDatabase();
    dbs.push(t);
    return { t, env: { DATABASE_URL: t.url, OUTBOX_SCHEMA: t.schema } };
  };
}
