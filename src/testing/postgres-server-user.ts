import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeError } from '../core/foundation/errors.js';
import { EmbeddedPostgresError } from './embedded-postgres-error.js';

const run = promisify(execFile);

/** The unprivileged account an embedded PostgreSQL runs as when we are root. */
export interface PostgresServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The account PostgreSQL runs as when started by root (it refuses to run as root itself). */
export const POSTGRES_SERVER_USER_NAME = 'postgres';

async function lookup(name: string): Promise<PostgresServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch (error) {
    // `id` exits 1 for an unknown user; anything else (no `id` at all) is not "missing".
    if ((error as { code?: unknown }).code === 1) return undefined;
    throw error;
  }
}

/**
 * The account to run PostgreSQL as: `undefined` when we are not root (it runs as us), else the
 * `postgres` user, created as a system user when missing.
 *
 * @example
 * const user = await postgresServerUser(); // { name: 'postgres', uid: 101, gid: 104 } as root
 */
export async function postgresServerUser(): Promise<PostgresServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const name = POSTGRES_SERVER_USER_NAME;
  const existing = await lookup(name);
  if (existing) return existing;
  try {
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      name,
    ]);
  } catch (error) {
    // Another process may have created it in the meantime: only a still-missing user is a failure.
    const created = await lookup(name);
    if (created) return created;
    throw new EmbeddedPostgresError(
      'EMBEDDED_POSTGRES_FAILED',
      `PostgreSQL refuses to run as root and there is no "${name}" user to run it as; creating one failed (${describeError(error)}). ` +
        `Create it (useradd --system ${name}), run as a normal user, or set DATABASE_URL to use your own server.`,
      { cause: error },
    );
  }
  const created = await lookup(name);
  if (!created)
    throw new EmbeddedPostgresError(
      'EMBEDDED_POSTGRES_FAILED',
      `useradd ${name} succeeded but id ${name} does not find it`,
    );
  return created;
}

/**
 * The first directory on the way to `target` (itself included) that `user` cannot enter, or
 * undefined when it can reach it. Only the user's primary group counts: a process started
 * with a uid drops its supplementary groups.
 *
 * @example
 * firstUnreachableDirectory('/root/app/node_modules', { name: 'postgres', uid: 101, gid: 104 }) // '/root'
 */
export function firstUnreachableDirectory(target: string, user: PostgresServerUser): string | undefined {
  const ancestors: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    ancestors.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of ancestors) {
    const stat = fs.statSync(dir);
    const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return dir;
  }
  return undefined;
}
