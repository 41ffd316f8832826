import type { LookupFunction } from 'node:net';
import { type Clock, SystemClock } from '../../core/foundation/clock.js';
import { OutboxValidationError } from '../../core/foundation/errors.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import { positiveOption } from '../../core/foundation/option-checks.js';
import { DEFAULT_MAX_RETRY_AFTER_MS } from './retry-after.js';
import { DEFAULT_SIGNATURE_HEADERS, type SignatureScheme } from './sign.js';
import type { SsrfPolicy } from './ssrf-guard.js';
import { WebhookSecret } from './webhook-secret.js';
import {
  type BodyFormat,
  type BodyFormatOptions,
  parseBodyFormat,
} from '../../core/foundation/body-format.js';

/** Standard Webhooks recommends a 15-30 s request timeout; receivers get the generous end's start. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
/** Connecting is quick or broken: a dead host should not eat the whole attempt. */
export const DEFAULT_WEBHOOK_CONNECT_TIMEOUT_MS = 10_000;
/** Response bodies are read (so the connection can be reused) up to this many bytes, then dropped. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
/** How much of a failing response's body is quoted in `last_error`. */
export const DEFAULT_ERROR_BODY_BYTES = 256;
/** Keep-alive connections per receiver origin. */
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 64;

/** Headers the publisher owns: a user header must not replace the signature or the body's framing. */
export const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'stripe-signature',
  'x-hub-signature-256',
]);

/** A signature scheme to send, optionally in a header of your choosing. */
export type SignatureSchemeOption =
  | SignatureScheme
  | { readonly scheme: SignatureScheme; readonly header: string };

/** Where a message goes: a URL, or undefined to fall back to `urls` / `url`. */
export type ResolveWebhookUrl = (
  message: OutboxMessage,
) => string | URL | undefined | null | Promise<string | URL | undefined | null>;

/** Configuration of a `WebhookPublisher`; validated at construction. */
export interface WebhookPublisherOptions {
  /** Publisher name (relay routing and logs); default `webhook`. */
  readonly name?: string;
  /** The default endpoint. */
  readonly url?: string | URL;
  /**
   * Endpoints by destination suffix: destination `webhook:acme` goes to `urls.acme`.
   * Looked up before `url`.
   */
  readonly urls?: Readonly<Record<string, string | URL>>;
  /**
   * Per-message endpoint (e.g. each tenant's URL from your database); looked up first.
   * Return undefined to fall back to `urls` / `url`.
   */
  readonly resolveUrl?: ResolveWebhookUrl;
  /**
   * `whsec_<base64>` secrets (24..64 bytes), current first; several sign every request during
   * rotation. A plain secret goes in as `WebhookSecret.fromRawKey(text)`.
   */
  readonly secrets: string | WebhookSecret | readonly (string | WebhookSecret)[];
  /**
   * The request body: `payload` (default: the stored payload, byte for byte), `envelope`
   * (`{ id, type, aggregateType, aggregateId, payload, occurredAt }`) or `cloudevents`
   * (CloudEvents 1.0 structured JSON). Signatures cover the body sent.
   */
  readonly bodyFormat?: BodyFormat;
  /** CloudEvents `source` with `bodyFormat: 'cloudevents'`; default `/outbox-relay`. */
  readonly cloudEventsSource?: string;
  /** Signatures to send; default `['standard']` (Standard Webhooks `webhook-signature`). */
  readonly signatureSchemes?: readonly SignatureSchemeOption[];
  /** Extra request headers, fixed or per message; they cannot replace webhook-* or framing headers. */
  readonly headers?: Readonly<Record<string, string>> | ((message: OutboxMessage) => Record<string, string>);
  /** Whole-request deadline, connect to last response byte; default 15000. */
  readonly timeoutMs?: number;
  /** Default `min(10000, timeoutMs)`. */
  readonly connectTimeoutMs?: number;
  /** Time to the response headers; default `timeoutMs` (undici checks it on a ~1 s tick). */
  readonly headersTimeoutMs?: number;
  /** Longest silence while reading the response body; default `timeoutMs` (~1 s resolution). */
  readonly bodyTimeoutMs?: number;
  /** Response bytes read at most before the connection is dropped instead of drained; default 65536. */
  readonly maxResponseBytes?: number;
  /** Response bytes quoted in a failure's message; default 256. */
  readonly errorBodyBytes?: number;
  /** Upper clamp of a receiver's `Retry-After`; default one hour. */
  readonly maxRetryAfterMs?: number;
  /** Keep-alive connections per origin; default 64. */
  readonly connectionsPerOrigin?: number;
  /** Idle keep-alive connection lifetime; default undici's (4 s, or what the receiver announces). */
  readonly keepAliveTimeoutMs?: number;
  /** Let webhooks reach loopback/private/link-local/reserved addresses (internal receivers, tests). */
  readonly allowPrivateNetworks?: boolean;
  /** Exceptions to the SSRF guard: host names, `*.suffix` names, IP addresses or CIDR ranges. */
  readonly allowHosts?: readonly string[];
  /**
   * Advice worded for where messages are read. `privateAddress`: how an SSRF refusal says to
   * permit an internal target; default names `allowPrivateNetworks` and `allowHosts`. The
   * binary passes `set OUTBOX_WEBHOOK_ALLOW_PRIVATE=true ...` instead.
   */
  readonly hints?: { readonly privateAddress?: string };
  /** DNS lookup used to connect (and checked by the SSRF guard); default `dns.lookup`. */
  readonly lookup?: LookupFunction;
  /** Source of `webhook-timestamp` and of "now" for HTTP-date `Retry-After`; default the wall clock. */
  readonly clock?: Clock;
  /** `user-agent` header; default `outbox-relay`. */
  readonly userAgent?: string;
}

/** `WebhookPublisherOptions` checked, parsed and with every default filled in. */
export interface ParsedWebhookOptions {
  readonly name: string;
  readonly url: URL | undefined;
  readonly urls: ReadonlyMap<string, URL>;
  readonly resolveUrl: ResolveWebhookUrl | undefined;
  readonly secrets: readonly WebhookSecret[];
  readonly schemes: readonly { readonly scheme: SignatureScheme; readonly header: string }[];
  readonly bodyFormat: BodyFormat;
  readonly bodyFormatOptions: BodyFormatOptions;
  readonly headers: WebhookPublisherOptions['headers'];
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly errorBodyBytes: number;
  readonly maxRetryAfterMs: number;
  readonly connectionsPerOrigin: number;
  readonly keepAliveTimeoutMs: number | undefined;
  readonly userAgent: string;
  readonly clock: Clock;
  readonly ssrf: SsrfPolicy;
}

/**
 * Checks a `WebhookPublisher`'s options and fills in the defaults. Throws an
 * `OutboxValidationError` naming the first bad option (`url`, `secrets[1]`, `timeoutMs`...).
 *
 * @example
 * const parsed = parseWebhookOptions({ url: 'https://hooks.example.com/x', secrets: ['whsec_...'] });
 * parsed.timeoutMs; // 15000
 */
export function parseWebhookOptions(options: WebhookPublisherOptions): ParsedWebhookOptions {
  if (options === null || typeof options !== 'object') {
    throw new OutboxValidationError('options', 'WebhookPublisher needs an options object');
  }
  const name = options.name ?? 'webhook';
  if (typeof name !== 'string' || name === '') {
    throw new OutboxValidationError('name', 'must be a non-empty string');
  }
  const url = options.url === undefined ? undefined : parseEndpoint(options.url, 'url');
  const urls = new Map<string, URL>();
  for (const [key, value] of Object.entries(options.urls ?? {}))
    urls.set(key, parseEndpoint(value, `urls.${key}`));
  if (options.resolveUrl !== undefined && typeof options.resolveUrl !== 'function') {
    throw new OutboxValidationError('resolveUrl', 'must be a function (message) => URL');
  }
  if (!url && urls.size === 0 && !options.resolveUrl) {
    throw new OutboxValidationError(
      'url',
      'give url, urls or resolveUrl: the publisher needs somewhere to send',
    );
  }
  const secrets = WebhookSecret.parseList(options.secrets, 'secrets');
  const schemes = parseSchemes(options.signatureSchemes);
  checkHeaders(options.headers);

  const timeoutMs = positiveOption(
    'timeoutMs',
    options.timeoutMs,
    'milliseconds',
    DEFAULT_WEBHOOK_TIMEOUT_MS,
  );
  const ms = (field: keyof WebhookPublisherOptions, fallback: number) =>
    positiveOption(field, options[field], 'milliseconds', fallback);
  const clock = options.clock ?? new SystemClock();
  if (typeof clock?.now !== 'function') throw new OutboxValidationError('clock', 'must have a now() method');
  return {
    name,
    url,
    urls,
    resolveUrl: options.resolveUrl,
    secrets,
    schemes,
    bodyFormat: parseBodyFormat(options.bodyFormat, 'bodyFormat'),
    bodyFormatOptions: options.cloudEventsSource ? { cloudEventsSource: options.cloudEventsSource } : {},
    headers: options.headers,
    timeoutMs,
    connectTimeoutMs: ms('connectTimeoutMs', Math.min(DEFAULT_WEBHOOK_CONNECT_TIMEOUT_MS, timeoutMs)),
    headersTimeoutMs: ms('headersTimeoutMs', timeoutMs),
    bodyTimeoutMs: ms('bodyTimeoutMs', timeoutMs),
    maxResponseBytes: positiveOption(
      'maxResponseBytes',
      options.maxResponseBytes,
      'bytes',
      DEFAULT_MAX_RESPONSE_BYTES,
    ),
    errorBodyBytes: positiveOption(
      'errorBodyBytes',
      options.errorBodyBytes,
      'bytes',
      DEFAULT_ERROR_BODY_BYTES,
    ),
    maxRetryAfterMs: ms('maxRetryAfterMs', DEFAULT_MAX_RETRY_AFTER_MS),
    connectionsPerOrigin: positiveOption(
      'connectionsPerOrigin',
      options.connectionsPerOrigin,
      'connections',
      DEFAULT_CONNECTIONS_PER_ORIGIN,
    ),
    keepAliveTimeoutMs:
      options.keepAliveTimeoutMs === undefined
        ? undefined
        : positiveOption('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 'milliseconds'),
    userAgent: options.userAgent ?? 'outbox-relay',
    clock,
    ssrf: {
      allowPrivateNetworks: options.allowPrivateNetworks,
      allowHosts: options.allowHosts,
      lookup: options.lookup,
      hint: options.hints?.privateAddress,
    },
  };
}

/**
 * Parses a receiver URL: absolute, http(s), no credentials. Throws `OutboxValidationError`
 * naming `field` otherwise.
 *
 * @example
 * parseEndpoint('https://hooks.example.com/outbox', 'url');
 */
export function parseEndpoint(value: string | URL, field: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new OutboxValidationError(field, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboxValidationError(field, `must be an http(s) URL, got scheme "${url.protocol}"`);
  }
  if (url.username || url.password) {
    throw new OutboxValidationError(
      field,
      'must not contain credentials (user:password@); use headers instead',
    );
  }
  return url;
}

function parseSchemes(
  option: readonly SignatureSchemeOption[] | undefined,
): { scheme: SignatureScheme; header: string }[] {
  const schemes: readonly SignatureSchemeOption[] = option ?? ['standard'];
  if (!Array.isArray(schemes) || schemes.length === 0) {
    throw new OutboxValidationError('signatureSchemes', 'must list at least one of standard, stripe, github');
  }
  return schemes.map((entry, i) => {
    const scheme: SignatureScheme | undefined = typeof entry === 'string' ? entry : entry?.scheme;
    if (scheme !== 'standard' && scheme !== 'stripe' && scheme !== 'github') {
      throw new OutboxValidationError(`signatureSchemes[${i}]`, 'must be standard, stripe or github');
    }
    const header = typeof entry === 'string' ? DEFAULT_SIGNATURE_HEADERS[scheme] : entry.header;
    if (typeof header !== 'string' || !/^[A-Za-z0-9-]+$/.test(header)) {
      throw new OutboxValidationError(`signatureSchemes[${i}].header`, 'must be an HTTP header name');
    }
    return { scheme, header: header.toLowerCase() };
  });
}

function checkHeaders(headers: WebhookPublisherOptions['headers']): void {
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        throw new OutboxValidationError(`headers.${name}`, 'is not a valid HTTP header name');
      }
      if (RESERVED_HEADERS.has(name.toLowerCase())) {
        throw new OutboxValidationError(
          `headers.${name}`,
          'is set by the publisher and cannot be overridden',
        );
      }
      if (typeof value !== 'string' || /[\r\n]/.test(value)) {
        throw new OutboxValidationError(`headers.${name}`, 'must be a string without line breaks');
      }
    }
  } else if (headers !== undefined && typeof headers !== 'function') {
    throw new OutboxValidationError(
      'headers',
      'must be an object of header strings or a function returning one',
    );
  }
}
