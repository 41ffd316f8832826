import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The source tree of an older commit of this repository, ready to run with tsx, for upgrade
 * tests: `git archive <commit>` into `<tmp>/outbox-relay-build-<commit>-<checkout>`, then its
 * dependencies. When its package-lock.json is this tree's, node_modules is a symlink to ours
 * (no install at all); otherwise `npm ci` runs there once. Cached: a second call returns at once.
 *
 * @example
 * const dir = prepareOlderBuild('2235086'); // then import `${dir}/src/index.ts`
 */
export function prepareOlderBuild(commit: string): { dir: string; installMs: number } {
  const full = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${commit}^{commit}`], {
    encoding: 'utf8',
  }).trim();
  // One per checkout: a build whose node_modules links to another checkout's breaks when that
  // one goes away (a removed git worktree), and two checkouts must not rebuild it under each other.
  const checkout = createHash('sha256').update(ROOT).digest('hex').slice(0, 8);
  const dir = path.join(os.tmpdir(), `outbox-relay-build-${full.slice(0, 12)}-${checkout}`);
  const ready = path.join(dir, '.outbox-build-ready');
  if (fs.existsSync(ready) && fs.existsSync(path.join(dir, 'node_modules', 'kysely')))
    return { dir, installMs: 0 };
  const started = performance.now();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${full} | tar -x -C "${dir}"`]);
  const sameLock =
    fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8') ===
    fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8');
  if (sameLock) fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  else
    execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
  fs.writeFileSync(ready, `${full}\n`);
  return { dir, installMs: performance.now() - started };
}
