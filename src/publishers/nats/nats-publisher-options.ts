import {
  type BodyFormat,
  type BodyFormatOptions,
  parseBodyFormat,
} from '../../core/foundation/body-format.js';
import { readFileSync } from 'node:fs';
import { positiveOption } from '../../core/foundation/option-checks.js';
import { OutboxValidationError } from '../../core/foundation/errors.js';
import { DEFAULT_NATS_HEADER_PREFIX } from './nats-header-names.js';
import { DEFAULT_NATS_SUBJECT_PREFIX, type NatsSubjectFn, natsSubjectProblem } from './nats-subject.js';

/** How long a publish waits for JetStream's PubAck before it counts as a transient failure. */
export const DEFAULT_NATS_TIMEOUT_MS = 5_000;
/** How long one connect attempt (TCP, TLS and the NATS handshake) may take. */
export const DEFAULT_NATS_CONNECT_TIMEOUT_MS = 5_000;
/** Pause between reconnect attempts to the same server (the client adds jitter). */
export const DEFAULT_NATS_RECONNECT_WAIT_MS = 1_000;
/** The connection name the server shows in its monitoring (`connz`). */
export const DEFAULT_NATS_CONNECTION_NAME = 'outbox-relay';

/** TLS to the NATS server: a private CA, client certificates (mutual TLS), or both. */
export interface NatsTlsOptions {
  /** PEM file of the CA that signed the server's certificate. */
  readonly caFile?: string;
  /** The same as PEM text. */
  readonly ca?: string;
  /** Client certificate (PEM file), for servers that verify clients. */
  readonly certFile?: string;
  readonly cert?: string;
  /** Client key (PEM file). */
  readonly keyFile?: string;
  readonly key?: string;
  /** Start TLS before the NATS INFO (servers with `handshake_first`). */
  readonly handshakeFirst?: boolean;
}

/** How a NATS connection authenticates and encrypts: an option of the publisher and of its connection. */
type NatsCredentials = Pick<
  NatsPublisherOptions,
  'user' | 'pass' | 'token' | 'nkeySeed' | 'credsFile' | 'tls'
>;

/** Configuration of a `NatsPublisher`; validated at construction. */
export interface NatsPublisherOptions {
  /** Publisher name (relay routing and logs); default `nats`. */
  readonly name?: string;
  /** Server URL(s): `nats://host:4222`, `tls://host:4222`, or `host:port`. */
  readonly servers: string | readonly string[];
  /** Username and password authentication. */
  readonly user?: string;
  readonly pass?: string;
  /** Token authentication. */
  readonly token?: string;
  /** NKey seed (`SU...`) for NKey authentication. */
  readonly nkeySeed?: string;
  /** A `.creds` file (JWT + NKey seed, as `nsc` writes it); re-read on every reconnect, so rotation works. */
  readonly credsFile?: string;
  /** TLS settings; any of them turns TLS on. */
  readonly tls?: NatsTlsOptions;
  /** PubAck wait per publish; default 5000. */
  readonly timeoutMs?: number;
  /** One connect attempt; default 5000. */
  readonly connectTimeoutMs?: number;
  /** Pause between reconnect attempts; default 1000. */
  readonly reconnectWaitMs?: number;
  /** Add `Nats-Expected-Stream`: the server refuses (permanently) a subject bound to another stream. */
  readonly expectStream?: string;
  /** Connection name shown by the server; default `outbox-relay`. */
  readonly connectionName?: string;
  /** Subject of destination `nats` (no subject named); default `<subjectPrefix>.<type>`. */
  readonly subject?: NatsSubjectFn;
  /** Prefix of the default subject; default `outbox`. */
  readonly subjectPrefix?: string;
  /** Prefix under which the message's own headers travel; default `Outbox-Header-`. */
  readonly headerPrefix?: string;
  /**
   * The message body: `payload` (default, as stored), `envelope` or `cloudevents` (CloudEvents
   * 1.0 structured JSON, with a `Content-Type: application/cloudevents+json` header).
   */
  readonly bodyFormat?: BodyFormat;
  /** CloudEvents `source` with `bodyFormat: 'cloudevents'`; default `/outbox-relay`. */
  readonly cloudEventsSource?: string;
}

/** The options after validation and defaults. */
export interface ResolvedNatsOptions {
  readonly name: string;
  readonly timeoutMs: number;
  readonly expectStream: string | undefined;
  readonly subject: NatsSubjectFn;
  readonly headerPrefix: string;
  readonly bodyFormat: BodyFormat;
  readonly bodyFormatOptions: BodyFormatOptions;
  readonly connection: NatsConnectionSettings;
}

/** What the connection needs, validated; `natsConnectOptions` turns it into the client's options. */
export type NatsConnectionSettings = NatsCredentials & {
  readonly servers: readonly string[];
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly reconnectWaitMs: number;
};

function text(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new OutboxValidationError(field, 'must be a non-empty string');
  return value;
}

function readable(file: string | undefined, field: string): void {
  if (file === undefined) return;
  try {
    readFileSync(file);
  } catch (error) {
    throw new OutboxValidationError(
      field,
      `cannot read ${JSON.stringify(file)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Validates `NatsPublisherOptions` (the field named in the error) and applies the defaults.
 * This file does not load the NATS client, so the binary can validate settings without it.
 *
 * @example
 * const resolved = resolveNatsOptions({ servers: 'nats://127.0.0.1:4222', token: 's3cret' });
 */
export function resolveNatsOptions(options: NatsPublisherOptions): ResolvedNatsOptions {
  if (options === null || typeof options !== 'object') {
    throw new OutboxValidationError('options', 'NatsPublisher needs an options object');
  }
  const name = options.name ?? 'nats';
  if (typeof name !== 'string' || name === '' || name.includes(':')) {
    throw new OutboxValidationError('name', 'must be a non-empty string without ":"');
  }
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (
    !Array.isArray(servers) ||
    servers.length === 0 ||
    servers.some((s) => typeof s !== 'string' || s === '')
  ) {
    throw new OutboxValidationError('servers', 'give one or more server URLs, e.g. nats://127.0.0.1:4222');
  }
  const user = text(options.user, 'user');
  const pass = text(options.pass, 'pass');
  const token = text(options.token, 'token');
  text(options.nkeySeed, 'nkeySeed');
  text(options.credsFile, 'credsFile');
  if ((user === undefined) !== (pass === undefined)) {
    throw new OutboxValidationError(user === undefined ? 'user' : 'pass', 'user and pass go together');
  }
  const methods = [
    user !== undefined && 'user/pass',
    token !== undefined && 'token',
    options.nkeySeed !== undefined && 'nkeySeed',
    options.credsFile !== undefined && 'credsFile',
  ].filter(Boolean);
  if (methods.length > 1) {
    throw new OutboxValidationError(
      'credentials',
      `give one authentication method, got ${methods.join(' and ')}`,
    );
  }
  if (options.nkeySeed !== undefined && !options.nkeySeed.startsWith('SU')) {
    throw new OutboxValidationError('nkeySeed', 'must be a user NKey seed (starts with "SU")');
  }
  readable(options.credsFile, 'credsFile');
  const tls = options.tls;
  if (tls !== undefined) {
    if (tls === null || typeof tls !== 'object') throw new OutboxValidationError('tls', 'must be an object');
    readable(tls.caFile, 'tls.caFile');
    readable(tls.certFile, 'tls.certFile');
    readable(tls.keyFile, 'tls.keyFile');
    if ((tls.certFile ?? tls.cert) !== undefined && (tls.keyFile ?? tls.key) === undefined) {
      throw new OutboxValidationError('tls.keyFile', 'a client certificate needs its key');
    }
  }
  const expectStream = text(options.expectStream, 'expectStream');
  const subjectPrefix = options.subjectPrefix ?? DEFAULT_NATS_SUBJECT_PREFIX;
  const prefixProblem = natsSubjectProblem(`${subjectPrefix}.x`);
  if (typeof subjectPrefix !== 'string' || prefixProblem !== undefined) {
    throw new OutboxValidationError(
      'subjectPrefix',
      `"${String(subjectPrefix)}" cannot start a subject: ${prefixProblem}`,
    );
  }
  if (options.subject !== undefined && typeof options.subject !== 'function') {
    throw new OutboxValidationError('subject', 'must be a function (message) => subject');
  }
  const headerPrefix = options.headerPrefix ?? DEFAULT_NATS_HEADER_PREFIX;
  if (typeof headerPrefix !== 'string' || /[\s:]/.test(headerPrefix)) {
    throw new OutboxValidationError('headerPrefix', 'must be a string without whitespace or ":"');
  }

  const connection: NatsConnectionSettings = {
    servers: [...servers],
    name: text(options.connectionName, 'connectionName') ?? DEFAULT_NATS_CONNECTION_NAME,
    connectTimeoutMs: positiveOption(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      'milliseconds',
      DEFAULT_NATS_CONNECT_TIMEOUT_MS,
    ),
    reconnectWaitMs: positiveOption(
      'reconnectWaitMs',
      options.reconnectWaitMs,
      'milliseconds',
      DEFAULT_NATS_RECONNECT_WAIT_MS,
    ),
    ...(user !== undefined ? { user, pass } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(options.nkeySeed !== undefined ? { nkeySeed: options.nkeySeed } : {}),
    ...(options.credsFile !== undefined ? { credsFile: options.credsFile } : {}),
    ...(tls !== undefined ? { tls: { ...tls } } : {}),
  };
  return {
    name,
    timeoutMs: positiveOption('timeoutMs', options.timeoutMs, 'milliseconds', DEFAULT_NATS_TIMEOUT_MS),
    expectStream,
    subject: options.subject ?? ((message) => `${subjectPrefix}.${message.type}`),
    headerPrefix,
    bodyFormat: parseBodyFormat(options.bodyFormat, 'bodyFormat'),
    bodyFormatOptions: options.cloudEventsSource ? { cloudEventsSource: options.cloudEventsSource } : {},
    connection,
  };
}
