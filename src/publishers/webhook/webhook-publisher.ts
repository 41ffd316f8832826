import type { LookupFunction } from 'node:net';
import { Agent, type Dispatcher, request } from 'undici';
import { type Clock, SystemClock } from '../../core/clock.js';
import { OutboxValidationError, PermanentPublishError, TransientPublishError } from '../../core/errors.js';
import type { OutboxMessage } from '../../core/message.js';
import type { PublishContext, Publisher } from '../publisher.js';
import { DEFAULT_MAX_RETRY_AFTER_MS, parseRetryAfter } from './retry-after.js';
import { DEFAULT_SIGNATURE_HEADERS, type SignatureScheme, signWebhook } from './sign.js';
import { SsrfBlockedError, SsrfGuard } from './ssrf-guard.js';
import { WebhookSecret } from './webhook-secret.js';

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
const RESERVED_HEADERS = new Set([
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
  /** `whsec_<base64>` secrets (24..64 bytes), current first; several sign every request during rotation. */
  readonly secrets: string | readonly string[];
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
  /** DNS lookup used to connect (and checked by the SSRF guard); default `dns.lookup`. */
  readonly lookup?: LookupFunction;
  /** Source of `webhook-timestamp` and of "now" for HTTP-date `Retry-After`; default the wall clock. */
  readonly clock?: Clock;
  /** `user-agent` header; default `outbox-relay`. */
  readonly userAgent?: string;
}

/** An endpoint that answered 410 Gone and gets no more requests until re-enabled. */
export interface DisabledWebhookEndpoint {
  readonly url: string;
  readonly since: Date;
  readonly reason: string;
}

/** What a delivered webhook stores in the row's `result` column. */
export interface WebhookDeliveryResult {
  readonly status: number;
}

function positive(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new OutboxValidationError(
      field,
      `must be a positive number of milliseconds/bytes, got ${String(value)}`,
    );
  }
  return value;
}

function parseEndpoint(value: string | URL, field: string): URL {
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

/** The URL as it may appear in errors and logs: no query string (tokens often live there). */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
}

function quoteSnippet(bytes: Buffer, total: number): string {
  if (total === 0) return 'empty body';
  // Control characters would break a one-line last_error; JSON.stringify escapes them.
  const text = JSON.stringify(bytes.toString('utf8'));
  return total > bytes.length ? `body ${text}… (${total}+ bytes)` : `body ${text}`;
}

interface DrainedBody {
  readonly head: Buffer;
  readonly total: number;
}

/**
 * Reads the body to reuse the keep-alive connection, keeping only the first `keep` bytes,
 * and destroys it after `max` bytes: a receiver cannot make us buffer a huge response.
 */
async function drain(body: Dispatcher.ResponseData['body'], keep: number, max: number): Promise<DrainedBody> {
  const head: Buffer[] = [];
  let kept = 0;
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (kept < keep) {
      const part = chunk.subarray(0, keep - kept);
      head.push(part);
      kept += part.length;
    }
    total += chunk.length;
    if (total > max) {
      body.destroy();
      break;
    }
  }
  return { head: Buffer.concat(head), total };
}

function findSsrfError(error: unknown): SsrfBlockedError | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof SsrfBlockedError) return e;
  }
  return undefined;
}

function networkReason(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timed out (UND_ERR_CONNECT_TIMEOUT)';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'no response headers in time (UND_ERR_HEADERS_TIMEOUT)';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'response body stalled (UND_ERR_BODY_TIMEOUT)';
    case 'UND_ERR_SOCKET':
      return 'connection closed by the receiver (UND_ERR_SOCKET)';
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'ECONNRESET':
      return 'connection reset (ECONNRESET)';
    case 'ENOTFOUND':
      return 'host not found (ENOTFOUND)';
    default: {
      const message = typeof e?.message === 'string' ? e.message : String(error);
      return code ? `${message} (${code})` : message;
    }
  }
}

/**
 * Delivers outbox messages as Standard Webhooks v1 requests: the stored body byte-for-byte,
 * `webhook-id` = message id (stable across retries), `webhook-timestamp` = this attempt,
 * one `webhook-signature` per secret. 2xx is delivered; 429/5xx/timeouts/network errors retry
 * (honouring `Retry-After`); 410 dead-letters and disables the endpoint; other 4xx and all
 * 3xx dead-letter (redirects are never followed). An SSRF guard refuses internal targets
 * unless `allowPrivateNetworks` or `allowHosts` says otherwise.
 *
 * @example
 * import { WebhookPublisher } from 'outbox-relay/webhook';
 * const webhook = new WebhookPublisher({
 *   url: 'https://hooks.example.com/outbox',
 *   secrets: [process.env.WEBHOOK_SECRET!],
 * });
 * const relay = createRelay({ db, publishers: { webhook } });
 */
export class WebhookPublisher implements Publisher {
  readonly name: string;
  readonly #url: URL | undefined;
  readonly #urls: ReadonlyMap<string, URL>;
  readonly #resolveUrl: ResolveWebhookUrl | undefined;
  readonly #secrets: readonly WebhookSecret[];
  readonly #schemes: readonly { scheme: SignatureScheme; header: string }[];
  readonly #headers: WebhookPublisherOptions['headers'];
  readonly #timeoutMs: number;
  readonly #headersTimeoutMs: number;
  readonly #bodyTimeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #errorBodyBytes: number;
  readonly #maxRetryAfterMs: number;
  readonly #userAgent: string;
  readonly #clock: Clock;
  readonly #guard: SsrfGuard;
  readonly #agent: Agent;
  readonly #disabled = new Map<string, DisabledWebhookEndpoint>();
  #closing: Promise<void> | undefined;

  constructor(options: WebhookPublisherOptions) {
    if (options === null || typeof options !== 'object') {
      throw new OutboxValidationError('options', 'WebhookPublisher needs an options object');
    }
    this.name = options.name ?? 'webhook';
    if (typeof this.name !== 'string' || this.name === '') {
      throw new OutboxValidationError('name', 'must be a non-empty string');
    }
    this.#url = options.url === undefined ? undefined : parseEndpoint(options.url, 'url');
    const urls = new Map<string, URL>();
    for (const [key, value] of Object.entries(options.urls ?? {}))
      urls.set(key, parseEndpoint(value, `urls.${key}`));
    this.#urls = urls;
    if (options.resolveUrl !== undefined && typeof options.resolveUrl !== 'function') {
      throw new OutboxValidationError('resolveUrl', 'must be a function (message) => URL');
    }
    this.#resolveUrl = options.resolveUrl;
    if (!this.#url && urls.size === 0 && !this.#resolveUrl) {
      throw new OutboxValidationError(
        'url',
        'give url, urls or resolveUrl: the publisher needs somewhere to send',
      );
    }
    this.#secrets = WebhookSecret.parseList(options.secrets, 'secrets');

    const schemes: readonly SignatureSchemeOption[] = options.signatureSchemes ?? ['standard'];
    if (!Array.isArray(options.signatureSchemes ?? schemes) || schemes.length === 0) {
      throw new OutboxValidationError(
        'signatureSchemes',
        'must list at least one of standard, stripe, github',
      );
    }
    this.#schemes = schemes.map((option, i) => {
      const scheme: SignatureScheme | undefined = typeof option === 'string' ? option : option?.scheme;
      if (scheme !== 'standard' && scheme !== 'stripe' && scheme !== 'github') {
        throw new OutboxValidationError(`signatureSchemes[${i}]`, 'must be standard, stripe or github');
      }
      const header = typeof option === 'string' ? DEFAULT_SIGNATURE_HEADERS[scheme] : option.header;
      if (typeof header !== 'string' || !/^[A-Za-z0-9-]+$/.test(header)) {
        throw new OutboxValidationError(`signatureSchemes[${i}].header`, 'must be an HTTP header name');
      }
      return { scheme, header: header.toLowerCase() };
    });

    if (typeof options.headers === 'object' && options.headers !== null) {
      for (const [name, value] of Object.entries(options.headers)) {
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
    } else if (options.headers !== undefined && typeof options.headers !== 'function') {
      throw new OutboxValidationError(
        'headers',
        'must be an object of header strings or a function returning one',
      );
    }
    this.#headers = options.headers;

    this.#timeoutMs = positive(options.timeoutMs, 'timeoutMs', DEFAULT_WEBHOOK_TIMEOUT_MS);
    const connectTimeoutMs = positive(
      options.connectTimeoutMs,
      'connectTimeoutMs',
      Math.min(DEFAULT_WEBHOOK_CONNECT_TIMEOUT_MS, this.#timeoutMs),
    );
    this.#headersTimeoutMs = positive(options.headersTimeoutMs, 'headersTimeoutMs', this.#timeoutMs);
    this.#bodyTimeoutMs = positive(options.bodyTimeoutMs, 'bodyTimeoutMs', this.#timeoutMs);
    this.#maxResponseBytes = positive(
      options.maxResponseBytes,
      'maxResponseBytes',
      DEFAULT_MAX_RESPONSE_BYTES,
    );
    this.#errorBodyBytes = positive(options.errorBodyBytes, 'errorBodyBytes', DEFAULT_ERROR_BODY_BYTES);
    this.#maxRetryAfterMs = positive(options.maxRetryAfterMs, 'maxRetryAfterMs', DEFAULT_MAX_RETRY_AFTER_MS);
    const connections = positive(
      options.connectionsPerOrigin,
      'connectionsPerOrigin',
      DEFAULT_CONNECTIONS_PER_ORIGIN,
    );
    const keepAliveTimeout =
      options.keepAliveTimeoutMs === undefined
        ? undefined
        : positive(options.keepAliveTimeoutMs, 'keepAliveTimeoutMs', 0);
    this.#userAgent = options.userAgent ?? 'outbox-relay';
    this.#clock = options.clock ?? new SystemClock();
    if (typeof this.#clock?.now !== 'function')
      throw new OutboxValidationError('clock', 'must have a now() method');

    this.#guard = new SsrfGuard({
      allowPrivateNetworks: options.allowPrivateNetworks,
      allowHosts: options.allowHosts,
      lookup: options.lookup,
    });
    // One Agent = one keep-alive pool per origin; the guarded connector checks every socket's peer.
    this.#agent = new Agent({
      connect: this.#guard.connector({ timeout: connectTimeoutMs }),
      connections,
      headersTimeout: this.#headersTimeoutMs,
      bodyTimeout: this.#bodyTimeoutMs,
      ...(keepAliveTimeout === undefined ? {} : { keepAliveTimeout }),
    });
  }

  /**
   * Endpoints disabled by a 410 Gone answer (held in memory: a restart re-enables them).
   *
   * @example
   * for (const e of webhook.disabledEndpoints()) console.log(e.url, e.since, e.reason);
   */
  disabledEndpoints(): DisabledWebhookEndpoint[] {
    return [...this.#disabled.values()];
  }

  /**
   * Stops sending to an endpoint: its messages dead-letter with `reason` until re-enabled.
   *
   * @example
   * webhook.disableEndpoint('https://hooks.example.com/old', 'customer cancelled');
   */
  disableEndpoint(url: string | URL, reason = 'disabled by the operator'): void {
    const parsed = parseEndpoint(url, 'url');
    this.#disabled.set(parsed.href, { url: parsed.href, since: this.#clock.now(), reason });
  }

  /**
   * Sends to an endpoint again after a 410 (or `disableEndpoint`); returns whether it was disabled.
   * Dead-lettered messages stay dead: replay them from the dead-letter tools.
   *
   * @example
   * webhook.enableEndpoint('https://hooks.example.com/outbox');
   */
  enableEndpoint(url: string | URL): boolean {
    return this.#disabled.delete(parseEndpoint(url, 'url').href);
  }

  async #endpoint(message: OutboxMessage): Promise<URL> {
    let target: string | URL | undefined | null;
    if (this.#resolveUrl) {
      try {
        target = await this.#resolveUrl(message);
      } catch (error) {
        // The user's lookup (often a database read) failing says nothing about the message: retry.
        throw new TransientPublishError(`resolveUrl failed for message ${message.messageId}`, {
          cause: error,
        });
      }
    }
    if (target === undefined || target === null) {
      const colon = message.destination.indexOf(':');
      const suffix = colon >= 0 ? message.destination.slice(colon + 1) : undefined;
      target = (suffix !== undefined ? this.#urls.get(suffix) : undefined) ?? this.#url;
    }
    if (target === undefined || target === null) {
      throw new PermanentPublishError(
        `no webhook URL for destination "${message.destination}": add it to urls, or give url or resolveUrl`,
      );
    }
    try {
      return parseEndpoint(target, 'url');
    } catch (error) {
      throw new PermanentPublishError(
        `webhook URL for message ${message.messageId} ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  #requestHeaders(message: OutboxMessage, timestamp: number): Record<string, string> {
    const extra = typeof this.#headers === 'function' ? this.#headers(message) : this.#headers;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(extra ?? {})) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    headers['user-agent'] ??= this.#userAgent;
    headers['content-type'] = 'application/json';
    headers['webhook-id'] = message.messageId;
    headers['webhook-timestamp'] = String(timestamp);
    const input = { id: message.messageId, timestamp, body: message.body };
    for (const { scheme, header } of this.#schemes)
      headers[header] = signWebhook(scheme, this.#secrets, input);
    return headers;
  }

  /**
   * Sends one message. Resolves `{ status }` on 2xx; throws `TransientPublishError` (with
   * `retryAfterMs` when the receiver sent Retry-After) or `PermanentPublishError`.
   *
   * @example
   * await webhook.publish(message, { signal: AbortSignal.timeout(20_000), attempt: 1, logger: NOOP_LOGGER });
   */
  async publish(message: OutboxMessage, context: PublishContext): Promise<WebhookDeliveryResult> {
    if (this.#closing) throw new TransientPublishError('webhook publisher is closed');
    // context.logger is read only where something is logged: the relay makes it on first read.
    const { signal } = context;
    if (signal.aborted)
      throw new TransientPublishError('attempt aborted before sending', { cause: signal.reason });

    const url = await this.#endpoint(message);
    const where = displayUrl(url);
    const disabled = this.#disabled.get(url.href);
    if (disabled) {
      throw new PermanentPublishError(
        `webhook endpoint ${where} is disabled since ${disabled.since.toISOString()} (${disabled.reason}); ` +
          're-enable it with enableEndpoint() and replay the dead letters',
      );
    }
    try {
      this.#guard.checkUrl(url);
    } catch (error) {
      throw new PermanentPublishError(`webhook to ${where} refused: ${(error as Error).message}`, {
        cause: error,
      });
    }

    const timestamp = Math.floor(this.#clock.now().getTime() / 1000);
    const headers = this.#requestHeaders(message, timestamp);

    // Our own controller rather than AbortSignal.any: the relay's signal lives long and
    // any() would hang one dependent per request on it.
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`attempt deadline of ${this.#timeoutMs} ms passed`));
    }, this.#timeoutMs);
    const started = performance.now();
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          dispatcher: this.#agent,
          method: 'POST',
          headers,
          body: message.body,
          signal: controller.signal,
          headersTimeout: this.#headersTimeoutMs,
          bodyTimeout: this.#bodyTimeoutMs,
        });
      } catch (error) {
        throw this.#requestFailed(error, where, signal, timedOut);
      }

      const { statusCode: status } = response;
      const success = status >= 200 && status < 300;
      let drained: DrainedBody = { head: Buffer.alloc(0), total: 0 };
      try {
        drained = await drain(response.body, success ? 0 : this.#errorBodyBytes, this.#maxResponseBytes);
      } catch (error) {
        // The status line is the receiver's answer; a body cut short does not change it.
        context.logger.debug(
          { webhook: where, status, error: networkReason(error) },
          'webhook response body not read to the end',
        );
      }
      const ms = Math.round(performance.now() - started);

      if (success) {
        context.logger.debug(
          { webhook: where, status, ms, messageId: message.messageId },
          'webhook delivered',
        );
        return { status };
      }
      const snippet = quoteSnippet(drained.head, drained.total);
      if (status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(
          response.headers['retry-after'],
          this.#clock.now(),
          this.#maxRetryAfterMs,
        );
        const after = retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)}s`;
        throw new TransientPublishError(`webhook to ${where} answered ${status}${after}: ${snippet}`, {
          retryAfterMs,
        });
      }
      if (status === 410) {
        const reason = `answered 410 Gone at attempt ${context.attempt}`;
        this.#disabled.set(url.href, { url: url.href, since: this.#clock.now(), reason });
        context.logger.warn(
          { webhook: where },
          'webhook endpoint answered 410 Gone: disabled until enableEndpoint()',
        );
        throw new PermanentPublishError(
          `webhook to ${where} answered 410 Gone: endpoint disabled until enableEndpoint() is called; ${snippet}`,
        );
      }
      if (status >= 300 && status < 400) {
        const location = response.headers.location;
        let to = '';
        if (typeof location === 'string') {
          try {
            to = ` to ${displayUrl(new URL(location, url))}`;
          } catch {
            to = ' to an invalid Location';
          }
        }
        throw new PermanentPublishError(
          `webhook to ${where} answered ${status} redirect${to}; redirects are not followed, update the URL`,
        );
      }
      throw new PermanentPublishError(`webhook to ${where} answered ${status}: ${snippet}`);
    } finally {
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
    }
  }

  #requestFailed(error: unknown, where: string, signal: AbortSignal, timedOut: boolean): Error {
    const ssrf = findSsrfError(error);
    if (ssrf)
      return new PermanentPublishError(`webhook to ${where} refused: ${ssrf.message}`, { cause: ssrf });
    if (signal.aborted) {
      return new TransientPublishError(`webhook to ${where} aborted (relay stopping or attempt deadline)`, {
        cause: error,
      });
    }
    if (timedOut) {
      return new TransientPublishError(`webhook to ${where} timed out after ${this.#timeoutMs} ms`, {
        cause: error,
      });
    }
    return new TransientPublishError(`webhook to ${where} failed: ${networkReason(error)}`, { cause: error });
  }

  /**
   * Closes the keep-alive pools after in-flight requests finish; safe to call more than once.
   *
   * @example
   * await webhook.close();
   */
  close(): Promise<void> {
    this.#closing ??= this.#agent.close();
    return this.#closing;
  }
}
