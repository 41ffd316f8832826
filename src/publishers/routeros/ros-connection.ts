import type { TLSSocket } from 'node:tls';
import { RouterOSAPI } from 'node-routeros';
import type { DeviceTlsOptions } from './device-config.js';
import { installEmptyReplyPatch } from './empty-reply-patch.js';
import { RosLoginError, RosTransportError, RosTrapError } from './ros-errors.js';

/** One row of a RouterOS reply: attribute name to text value (`.id`, `name`, `ret`, ...). */
export type RosRow = Record<string, string>;

/** How to open one connection. */
export interface RosConnectionOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  tls?: boolean | DeviceTlsOptions;
  /** Deadline for TCP/TLS connect plus login. */
  connectTimeoutMs: number;
  /** node-routeros closes a connection idle this long (its `timeout`). Default 60000. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** What one `write` waits for. */
export interface RosWriteOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Default idle time after which node-routeros drops an unused connection. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Anonymous-DH cipher list for api-ssl without a certificate (Node >= 17 needs SECLEVEL=0). */
const ANONYMOUS_DH_CIPHERS = 'ADH-AES256-GCM-SHA384:@SECLEVEL=0';

/** TLS error codes that mean "this certificate is not the one we trust": retrying cannot help. */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|FINGERPRINT/;

/**
 * TLS error codes that mean the router accepts none of the TLS versions or ciphers we offer.
 * The usual cause is api-ssl without a certificate, which offers anonymous DH only: with
 * `tls: true` or `{ ca }` the router answers alert 40 (handshake failure) every time.
 */
const NO_COMMON_TLS_ERROR = /ALERT_HANDSHAKE_FAILURE|NO_SHARED_CIPHER|INSUFFICIENT_SECURITY|PROTOCOL_VERSION/;

/** node-routeros internals we must reach: it has no API to abort, so we destroy the socket. */
interface RouterOsInternals {
  connector?: {
    socket?: TLSSocket;
    destroy(): void;
    on(event: string, fn: (...args: unknown[]) => void): void;
  } | null;
  connectionHoldInterval?: NodeJS.Timeout;
  keptaliveby?: NodeJS.Timeout;
}

const noop = (): void => undefined;

/**
 * One disposable connection to one router, over node-routeros. node-routeros has no
 * per-command timeout, and its promises never settle on `!fatal`, FIN, RST or silence
 * (routeros-notes.md 3.2-3.5), so every call here races our own deadline and the
 * connection's death, and any failure other than a `!trap` destroys the socket for good:
 * a timed-out connection is never reused, since a late reply could be taken for the answer
 * to the next command.
 *
 * @example
 * const conn = await RosConnection.open({ host, port: 8728, username, password, connectTimeoutMs: 5000 });
 * const rows = await conn.write('/ppp/secret/print', ['?name=alice'], { timeoutMs: 10_000 });
 * conn.destroy();
 */
export class RosConnection {
  readonly #api: RouterOSAPI;
  #dead: Error | undefined;
  readonly #died: Promise<never>;
  #onDeath: (error: Error) => void = noop;

  private constructor(api: RouterOSAPI) {
    this.#api = api;
    this.#died = new Promise<never>((_, reject) => {
      this.#onDeath = reject;
    });
    // Nobody may be waiting when the connection dies; that is not an unhandled rejection.
    this.#died.catch(noop);
  }

  /** Connects and logs in, within `connectTimeoutMs`. Throws RosLoginError or RosTransportError. */
  static async open(options: RosConnectionOptions): Promise<RosConnection> {
    installEmptyReplyPatch();
    const api = new RouterOSAPI({
      host: options.host,
      // Always explicit: node-routeros dials 8728 for TLS when no port is given (notes 3.6).
      port: options.port,
      user: options.username,
      password: options.password,
      timeout: Math.max(1, Math.ceil((options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 1000)),
      tls: tlsOptionsFor(options.tls),
      keepalive: false,
    });
    const connection = new RosConnection(api);
    // Without an error listener an idle connection crashes the process (notes 3.5).
    api.on('error', (error: unknown) => connection.#kill(transportError('connection failed', error)));
    api.on('close', () => connection.#kill(new RosTransportError('connection closed by the router')));

    let socketError: Error | undefined;
    const connecting = api.connect();
    connecting.catch(noop);
    const socket = (api as unknown as RouterOsInternals).connector?.socket;
    socket?.on('error', (error: Error) => {
      socketError = error;
    });
    // node-routeros writes each word with its own socket.write: with Nagle on, every command
    // after the first word waits for the router's delayed ACK (about 40 ms per command).
    socket?.setNoDelay(true);
    const fingerprint = typeof options.tls === 'object' ? options.tls.fingerprint256 : undefined;
    if (socket && fingerprint) {
      // Runs before node-routeros' own secureConnect handler, which sends the login: a wrong
      // certificate destroys the socket first, so the password never reaches that peer.
      socket.prependOnceListener('secureConnect', () => {
        const actual = socket.getPeerCertificate()?.fingerprint256;
        if (!actual || normaliseFingerprint(actual) !== normaliseFingerprint(fingerprint)) {
          const error = new RosTransportError(
            `TLS certificate fingerprint ${actual ?? '(none)'} does not match the pinned fingerprint`,
            true,
          );
          socketError = error;
          socket.destroy(error);
        }
      });
    }
    try {
      await race(connecting, connection.#died, options.connectTimeoutMs, 'connect and login', options.signal);
      return connection;
    } catch (error) {
      connection.destroy();
      if ((error as { errno?: unknown }).errno === 'CANTLOGIN') {
        throw new RosLoginError('login was rejected: wrong user name or password');
      }
      if (error instanceof RosTransportError && !socketError) throw error;
      throw transportError('connect failed', socketError ?? error);
    }
  }

  /** False once the connection failed or was destroyed. */
  get usable(): boolean {
    return this.#dead === undefined;
  }

  /**
   * Runs one command and returns its rows (for `add`, `[{ ret: '*1A' }]`). Throws
   * RosTrapError when the router refuses it (the connection stays usable), RosTransportError
   * otherwise (the connection is destroyed).
   */
  async write(command: string, words: readonly string[], options: RosWriteOptions): Promise<RosRow[]> {
    if (this.#dead) throw new RosTransportError(`connection is no longer usable (${this.#dead.message})`);
    let pending: Promise<RosRow[]>;
    try {
      pending = this.#api.write(command, [...words]) as Promise<RosRow[]>;
    } catch (error) {
      this.#kill(transportError('write failed', error));
      throw this.#dead;
    }
    const answered = pending.catch((error: unknown) => {
      // node-routeros rejects a write only for !trap, with a plain Error carrying the message.
      if (error instanceof Error && error.constructor === Error)
        throw new RosTrapError(command, error.message);
      throw transportError('write failed', error);
    });
    answered.catch(noop);
    try {
      return await race(answered, this.#died, options.timeoutMs, command, options.signal);
    } catch (error) {
      if (!(error instanceof RosTrapError))
        this.#kill(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  /** Destroys the socket at once (node-routeros' `close()` can hang, notes 3.4). */
  destroy(): void {
    this.#kill(new RosTransportError('connection destroyed'));
  }

  #kill(reason: Error): void {
    if (this.#dead) return;
    this.#dead = reason;
    this.#onDeath(reason);
    const api = this.#api as unknown as RouterOsInternals;
    // node-routeros re-arms a '#' keepalive timer while a command is open; a dead
    // connection must not keep the process alive or write into a destroyed socket.
    clearTimeout(api.connectionHoldInterval);
    clearTimeout(api.keptaliveby);
    const connector = api.connector;
    if (connector) {
      connector.destroy();
      connector.on('error', noop);
    }
    this.#api.removeAllListeners();
    this.#api.on('error', noop);
  }
}

function tlsOptionsFor(tls: boolean | DeviceTlsOptions | undefined): Record<string, unknown> | undefined {
  if (!tls) return undefined;
  if (tls === true) return {};
  const options: Record<string, unknown> = {};
  if (tls.servername) options.servername = tls.servername;
  if (tls.ca) options.ca = tls.ca;
  if (tls.anonymousDh) {
    options.ciphers = ANONYMOUS_DH_CIPHERS;
    options.rejectUnauthorized = false;
  } else if (tls.fingerprint256 && !tls.ca) {
    // The pin replaces CA verification (routers mostly carry self-signed certificates);
    // it is checked before login in RosConnection.open.
    options.rejectUnauthorized = false;
  }
  return options;
}

/**
 * Node prints fingerprints as `AB:CD:...`, RouterOS' `/certificate print` as `abcd...`, openssl
 * as `AB:CD:...` after `sha256 Fingerprint=`: compare only the hex digits, in one case.
 */
function normaliseFingerprint(fingerprint: string): string {
  return fingerprint
    .replace(/^sha256 fingerprint=/i, '')
    .replace(/[\s:]/g, '')
    .toUpperCase();
}

function transportError(what: string, error: unknown): RosTransportError {
  if (error instanceof RosTransportError) return error;
  const code = (error as { code?: unknown })?.code;
  const errno = (error as { errno?: unknown })?.errno;
  // OpenSSL messages end with a newline; keep the error one line.
  const message = (error instanceof Error ? error.message : String(error)).trim();
  const detail = [
    typeof code === 'string' ? code : undefined,
    typeof errno === 'string' ? errno : undefined,
    message,
  ]
    .filter((part) => part !== undefined && part !== '')
    .join(': ');
  const noCommonTls = typeof code === 'string' && NO_COMMON_TLS_ERROR.test(code);
  const certificate = noCommonTls || (typeof code === 'string' && CERTIFICATE_ERROR.test(code));
  const hint = noCommonTls
    ? ' (the router accepts no TLS version or cipher we offer; api-ssl without a certificate offers' +
      ' only anonymous DH: give the service a certificate, or set tls: { anonymousDh: true })'
    : '';
  return new RosTransportError(`${what}: ${detail || `errno ${String(errno)}`}${hint}`, certificate, {
    cause: error,
  });
}

/** Settles with `work`, or rejects when the connection dies, the deadline passes or `signal` aborts. */
function race<T>(
  work: Promise<T>,
  died: Promise<never>,
  timeoutMs: number,
  what: string,
  signal: AbortSignal | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new RosTransportError(`${what}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => reject(new RosTransportError(`${what}: aborted`, false, { cause: signal?.reason }));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
    died.catch((error) => {
      done();
      reject(error);
    });
  });
}
