import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Starts test/support/relay-child.ts (a relay in its own process, for SIGKILL tests) against one
 * schema; `env` adds the child's knobs (LEASE_MS defaults to 1000, AFTER_PUBLISH_MS, CHILD_NATS_URL...).
 *
 * @example
 * const child = spawnRelayChild({ url: t.url, schema: t.schema, outFile, env: { AFTER_PUBLISH_MS: '50' } });
 */
export function spawnRelayChild(options: {
  url: string;
  schema: string;
  outFile: string;
  env?: Record<string, string>;
}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/relay-child.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: options.url,
      OUTBOX_SCHEMA: options.schema,
      OUT_FILE: options.outFile,
      LEASE_MS: '1000',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * The message ids a relay child wrote to its OUT_FILE, one per publish, in order.
 *
 * @example
 * await waitFor(() => childPublished(outFile).length >= 300, 'the child to publish');
 */
export function childPublished(outFile: string): string[] {
  return fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8').split('\n').filter(Boolean) : [];
}
