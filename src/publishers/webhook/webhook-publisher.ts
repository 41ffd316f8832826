import { type FormattedBody, formatBody } from '../../core/foundation/body-format.js';
import { Agent, type Dispatcher, request } from 'undici';
import type { Clock } from '../../core/foundation/clock.js';
import {
  DestinationGoneError,
  PermanentPublishError,
  TransientPublishError,
} from '../../core/foundation/errors.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import { parseDestination } from '../../core/foundation/parse-destination.js';
import type { PublishContext, Publisher } from '../../core/foundation/publisher.js';
import { type DrainedBody, drain, quoteSnippet } from './response-body.js';
import { RequestDeadlines } from './request-deadlines.js';
import { signWebhook } from './sign.js';
import { SsrfBlockedError, SsrfGuard } from './ssrf-guard.js';
import {
  type ParsedWebhookOptions,
  parseEndpoint,
  parseWebhookOptions,
  RESERVED_HEADERS,
  type WebhookPublisherOptions,
} from './webhook-options.js';
import { classifyWebhookResponse } from './webhook-response.js';

/** An endpoint disabled with `disableEndpoint` in this process: no more requests until re-enabled. */
export interface DisabledWebhookEndpoint {
  readonly url: string;
  readonly since: Date;
  readonly reason: string;
}

/** What a delivered webhook stores in the row's `result` column. */
export interface WebhookDeliveryResult {
  readonly status: number;
}

/** The URL as it may appear in errors and logs: no query string (tokens often live there). */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
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

/** Where a redirect pointed, for the error message (query string hidden like every URL we show). */
function redirectTarget(location: string | undefined, base: URL): string {
  if (location === undefined) return '';
  try {
    return ` to ${displayUrl(new URL(location, base))}`;
  } catch {
    return ' to an invalid Location';
  }
}

/**
 * Delivers outbox messages as Standard Webhooks v1 requests: the stored body byte-for-byte,
 * `webhook-id` = message id (stable across retries), `webhook-timestamp` = this attempt,
 * one `webhook-signature` per secret. 2xx is delivered; 429/5xx/timeouts/network errors retry
 * (honouring `Retry-After`); 410 throws `DestinationGoneError`: the relay keeps the message
 * waiting and pauses its destination for the whole fleet (docs/destinations.md); other 4xx and all
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
  readonly #options: ParsedWebhookOptions;
  readonly #clock: Clock;
  readonly #guard: SsrfGuard;
  readonly #agent: Agent;
  readonly #disabled = new Map<string, DisabledWebhookEndpoint>();
  readonly #deadlines: RequestDeadlines;
  #closing: Promise<void> | undefined;

  constructor(options: WebhookPublisherOptions) {
    const parsed = parseWebhookOptions(options);
    this.#options = parsed;
    this.name = parsed.name;
    this.#clock = parsed.clock;
    this.#guard = new SsrfGuard(parsed.ssrf);
    this.#deadlines = new RequestDeadlines(parsed.timeoutMs);
    // One Agent = one keep-alive pool per origin; the guarded connector checks every socket's peer.
    this.#agent = new Agent({
      connect: this.#guard.connector({ timeout: parsed.connectTimeoutMs }),
      connections: parsed.connectionsPerOrigin,
      headersTimeout: parsed.headersTimeoutMs,
      bodyTimeout: parsed.bodyTimeoutMs,
      ...(parsed.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeout: parsed.keepAliveTimeoutMs }),
    });
  }

  /**
   * Checks the fixed targets (`url` and every `urls` entry) against the SSRF guard now, as a
   * publish would, so a URL that every message would be refused at is refused at start
   * instead. Throws `SsrfBlockedError`. Targets from `resolveUrl` are checked per message.
   *
   * @example
   * await webhook.checkTargets(); // throws for url: 'http://127.0.0.1:3000/hooks' without allowPrivateNetworks
   */
  async checkTargets(): Promise<void> {
    const { url, urls } = this.#options;
    for (const target of [...(url ? [url] : []), ...urls.values()]) await this.#guard.checkTarget(target);
  }

  /** The whole-attempt deadline (`timeoutMs` option); the relay warns when its own is shorter. */
  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  /**
   * Endpoints disabled with `disableEndpoint` (held in memory: a restart re-enables them). A 410
   * Gone answer no longer lands here: it pauses the destination in the database instead.
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
   * Sends to an endpoint again after `disableEndpoint`; returns whether it was disabled. (After a
   * 410, resume the destination instead: `resumeDestination`, `outbox-relay destinations resume`.)
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
    const { resolveUrl } = this.#options;
    if (resolveUrl) {
      try {
        target = await resolveUrl(message);
      } catch (error) {
        // The user's lookup (often a database read) failing says nothing about the message: retry.
        throw new TransientPublishError(`resolveUrl failed for message ${message.messageId}`, {
          cause: error,
        });
      }
    }
    if (target === undefined || target === null) {
      // `webhook:acme` goes to `urls.acme`. These were parsed and checked once, at construction.
      const suffix = parseDestination(message.destination).target;
      const fixed = (suffix !== undefined ? this.#options.urls.get(suffix) : undefined) ?? this.#options.url;
      if (fixed) return fixed;
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

  #requestHeaders(
    message: OutboxMessage,
    timestamp: number,
    sent: FormattedBody,
    trace: PublishContext['traceHeaders'],
  ): Record<string, string> {
    const option = this.#options.headers;
    const extra = typeof option === 'function' ? option(message) : option;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(extra ?? {})) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    // This attempt's span, for the receiver to continue the trace. Not signed (Standard
    // Webhooks signs id, timestamp and body), so verification is the same with or without it.
    if (trace) Object.assign(headers, trace);
    headers['user-agent'] ??= this.#options.userAgent;
    headers['content-type'] = sent.contentType;
    headers['webhook-id'] = message.messageId;
    headers['webhook-timestamp'] = String(timestamp);
    const input = { id: message.messageId, timestamp, body: sent.body };
    for (const { scheme, header } of this.#options.schemes)
      headers[header] = signWebhook(scheme, this.#options.secrets, input);
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
    // `payload` hands back message.body itself: the default path builds no new string.
    const sent = formatBody(message, this.#options.bodyFormat, this.#options.bodyFormatOptions);
    const headers = this.#requestHeaders(message, timestamp, sent, context.traceHeaders);

    // Our own cancel switch, aborted by the relay's signal or by our deadline; not
    // AbortSignal.any, which would hang one dependent per request on the relay's signal.
    const cancel = this.#deadlines.start();
    const onAbort = () => cancel.cancel(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const started = performance.now();
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          dispatcher: this.#agent,
          method: 'POST',
          headers,
          body: sent.body,
          signal: cancel,
          headersTimeout: this.#options.headersTimeoutMs,
          bodyTimeout: this.#options.bodyTimeoutMs,
        });
      } catch (error) {
        throw this.#requestFailed(error, where, signal, cancel.timedOut);
      }

      const { statusCode: status } = response;
      const verdict = classifyWebhookResponse(status, response.headers, {
        now: this.#clock.now(),
        maxRetryAfterMs: this.#options.maxRetryAfterMs,
      });
      if (verdict.outcome === 'delivered') {
        // Read to the end so the connection is reused; past the limit undici closes it. It
        // resolves however the body ends: the status line is the receiver's answer.
        await response.body.dump({ limit: this.#options.maxResponseBytes });
        context.logger.debug(
          {
            webhook: where,
            status,
            ms: Math.round(performance.now() - started),
            messageId: message.messageId,
          },
          'webhook delivered',
        );
        return { status };
      }
      let drained: DrainedBody = { head: Buffer.alloc(0), total: 0 };
      try {
        drained = await drain(response.body, this.#options.errorBodyBytes, this.#options.maxResponseBytes);
      } catch (error) {
        // The status line is the receiver's answer; a body cut short does not change it.
        context.logger.debug(
          { webhook: where, status, error: networkReason(error) },
          'webhook response body not read to the end',
        );
      }
      const snippet = quoteSnippet(drained.head, drained.total);
      if (verdict.outcome === 'transient') {
        const { retryAfterMs } = verdict;
        const after = retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)}s`;
        throw new TransientPublishError(`webhook to ${where} answered ${status}${after}: ${snippet}`, {
          retryAfterMs,
          status,
        });
      }
      if (verdict.reason === 'gone') {
        throw new DestinationGoneError(
          `webhook to ${where} answered 410 Gone at attempt ${context.attempt}: the destination is paused until resumed; ${snippet}`,
          { status },
        );
      }
      if (verdict.reason === 'redirect') {
        throw new PermanentPublishError(
          `webhook to ${where} answered ${status} redirect${redirectTarget(verdict.location, url)}; redirects are not followed, update the URL`,
          { status },
        );
      }
      throw new PermanentPublishError(`webhook to ${where} answered ${status}: ${snippet}`, { status });
    } finally {
      this.#deadlines.finish(cancel);
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
      return new TransientPublishError(`webhook to ${where} timed out after ${this.#options.timeoutMs} ms`, {
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
