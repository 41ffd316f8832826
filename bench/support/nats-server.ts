import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A real `nats-server -js` of this test file's own. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` (or `tls://` when started with TLS). */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (file storage survives `stop()` + `start()`). */
  readonly storeDir: string;
  /** Kills the server (SIGKILL by default: nothing gets flushed on purpose). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export interface NatsServerOptions {
  /** Extra nats-server configuration text (authorization, tls, max_payload...). */
  readonly config?: string;
  /** Start without JetStream (a server whose JetStream is not up answers 503 no responders). */
  readonly jetstream?: boolean;
  /** Scheme of `url`; `tls` when the config enables TLS. */
  readonly scheme?: 'nats' | 'tls';
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function binary(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat('/usr/sbin', '/usr/local/bin')) {
    const candidate = path.join(dir, 'nats-server');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(
    'nats-server not found on PATH or in /usr/sbin: install the Debian package nats-server (>= 2.9; .ci/run does) ' +
      'or set NATS_URL to a JetStream-enabled server',
  );
}

/** A TCP port nothing listens on right now (for servers that must know each other's ports). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `nats-server` with JetStream on a free port, its store under the OS temp dir, and
 * resolves once it logs "Server is ready". Fails loudly (never skips) when it cannot start.
 *
 * @example
 * const nats = await startNatsServer(); afterAll(() => nats.close());
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = binary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nats-test-'));
  const storeDir = path.join(dir, 'jetstream');
  const port = await freePort();
  const configFile = path.join(dir, 'nats.conf');
  const jetstream = options.jetstream === false ? '' : `jetstream { store_dir: ${JSON.stringify(storeDir)} }`;
  fs.writeFileSync(configFile, `listen: "127.0.0.1:${port}"\n${jetstream}\n${options.config ?? ''}\n`);
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(bin, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('did not log "Server is ready" within 15 s')), 15_000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(
          new Error(`nats-server (${bin} -c ${configFile}) failed to start: ${error.message}\n${output}`),
        );
      };
      const onExit = (code: number | null, signal: string | null) =>
        fail(new Error(`exited with ${code ?? signal}`));
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          proc.off('exit', onExit);
          proc.stdout?.off('data', onData);
          proc.stderr?.off('data', onData);
          proc.stdout?.resume();
          proc.stderr?.resume();
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('error', fail);
      proc.once('exit', onExit);
    });
  };

  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };

  await start();
  return {
    url: `${options.scheme ?? 'nats'}://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The JetStream server a test file shares: `NATS_URL` when set (CI with a service
 * container), a `nats:2.10` container when `OUTBOX_TEST_NATS=testcontainers` (a machine with
 * a container runtime and no nats-server package), else a `nats-server` of its own. Tests that
 * stop the server or need a special configuration call `startNatsServer` instead.
 *
 * @example
 * const nats = await natsTestServer(); afterAll(() => nats.close());
 */
export async function natsTestServer(): Promise<{ readonly url: string; close(): Promise<void> }> {
  const external = process.env.NATS_URL;
  if (external) return { url: external, close: async () => undefined };
  if (process.env.OUTBOX_TEST_NATS === 'testcontainers') return startTestcontainersNats();
  return startNatsServer();
}

async function startTestcontainersNats(): Promise<{ readonly url: string; close(): Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  try {
    const container = await new GenericContainer('nats:2.10')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    return {
      url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
      close: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    throw new Error(
      `OUTBOX_TEST_NATS=testcontainers but no container runtime answered (${String(error)}). ` +
        'Start Docker/Podman, or unset OUTBOX_TEST_NATS to use the nats-server binary.',
      { cause: error },
    );
  }
}
