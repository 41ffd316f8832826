import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/**
 * OpenTelemetry, optional and free when unused. `@opentelemetry/api` is an optional peer
 * dependency: it is loaded only once a tracer provider is registered (its global registry says
 * so), and until then `tracingActive()` is one property lookup and nothing else runs. The trace
 * context travels in the message's headers as W3C `traceparent`/`tracestate` (written by `add`
 * with the row, no extra statement), and each attempt's span context goes on to the receiver
 * the same way.
 */

/** Where @opentelemetry/api v1 keeps what was registered globally (api/src/internal/global-utils.ts). */
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** The W3C trace context headers. */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

/** The W3C trace context of a span, as headers. */
export type TraceHeaders = { traceparent: string; tracestate?: string };

let api: typeof OtelApi | null | undefined;

function otel(): typeof OtelApi | null {
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)('@opentelemetry/api') as typeof OtelApi;
    } catch {
      // Not installed: tracing stays off, which is what an app without OpenTelemetry wants.
      api = null;
    }
  }
  return api;
}

/**
 * True when an OpenTelemetry tracer provider is registered in this process. Costs one property
 * lookup, so the hot path may ask for every batch.
 *
 * @example
 * if (tracingActive()) headers = { ...headers, ...producerSpan.headers };
 */
export function tracingActive(): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_GLOBAL];
  return registry?.trace !== undefined && otel() !== null;
}

let tracerOf: unknown;
let cachedTracer: OtelApi.Tracer | undefined;

/**
 * Our tracer, fetched once per registered provider: `getTracer()` builds a key string and looks
 * it up in the provider's map on every call, which was a measurable part of each span. What the
 * API registers globally is a proxy provider, replaced by a new one when `trace.disable()` runs,
 * so its identity says when to fetch again.
 */
function tracer(o: typeof OtelApi): OtelApi.Tracer {
  const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_GLOBAL]?.trace;
  if (registered !== tracerOf || cachedTracer === undefined) {
    cachedTracer = o.trace.getTracer('outbox-relay');
    tracerOf = registered;
  }
  return cachedTracer;
}

/**
 * The `traceparent` of a span context (W3C Trace Context, version 00).
 *
 * @example
 * formatTraceparent({ traceId: '4bf9...', spanId: '00f0...', traceFlags: 1 }) // '00-4bf9...-00f0...-01'
 */
export function formatTraceparent(ctx: { traceId: string; spanId: string; traceFlags: number }): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);
/** A traceparent's fields after the flags (a later version may add some): `-` and anything but a line end. */
const TRACEPARENT_TAIL = /^-.*$/;
const DASH = 0x2d;

/** The value of a lowercase hex digit, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Parses a `traceparent`; undefined when it is missing or malformed (a bad header never fails a
 * delivery, the span then starts a trace of its own). It runs once per attempt, so it checks the
 * fixed layout (`vv-<32 hex>-<16 hex>-ff`) by character codes instead of a regex, whose match
 * array and group strings were garbage on every attempt.
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceId // '4bf9...'
 */
export function parseTraceparent(
  text: string | undefined,
): { traceId: string; spanId: string; traceFlags: number } | undefined {
  if (!text) return undefined;
  const t = text.trim();
  if (t.length < 55 || t.charCodeAt(2) !== DASH || t.charCodeAt(35) !== DASH || t.charCodeAt(52) !== DASH)
    return undefined;
  for (let i = 0; i < 55; i++) {
    if (i !== 2 && i !== 35 && i !== 52 && hexDigit(t.charCodeAt(i)) < 0) return undefined;
  }
  if (t.length > 55 && !TRACEPARENT_TAIL.test(t.slice(55))) return undefined;
  if (t.charCodeAt(0) === 0x66 && t.charCodeAt(1) === 0x66) return undefined; // version ff is invalid
  const traceId = t.slice(3, 35);
  const spanId = t.slice(36, 52);
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: hexDigit(t.charCodeAt(53)) * 16 + hexDigit(t.charCodeAt(54)) };
}

function headersOf(span: OtelApi.Span): TraceHeaders {
  const ctx = span.spanContext();
  const state = ctx.traceState?.serialize();
  const traceparent = formatTraceparent(ctx);
  return state ? { traceparent, tracestate: state } : { traceparent };
}

/**
 * The producer's side: a `create <destination>` span (kind PRODUCER, messaging semantic
 * conventions) per message, child of the caller's active context, and its trace context as
 * headers to store with the message. Call only when `tracingActive()`.
 *
 * @example
 * const span = startCreateSpan({ destination: 'webhook', messageId, type: 'order.created' });
 * try { await insert({ ...headers, ...span.headers }); span.end(); } catch (e) { span.end(e); throw e; }
 */
export function startCreateSpan(message: { destination: string; messageId: string; type: string }): {
  headers: TraceHeaders;
  end(error?: unknown): void;
} {
  const o = otel()!;
  const span = tracer(o).startSpan(`create ${message.destination}`, {
    kind: o.SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'outbox-relay',
      'messaging.operation.type': 'create',
      'messaging.operation.name': 'create',
      'messaging.destination.name': message.destination,
      'messaging.message.id': message.messageId,
      'outbox_relay.message.type': message.type,
    },
  });
  return {
    headers: headersOf(span),
    end(error) {
      if (error !== undefined) endWithError(o, span, error);
      span.end();
    },
  };
}

/** How the relay ties an attempt's span to the producer's trace. */
export type TraceParentMode = 'child' | 'link';

/** What a `send` span records about its attempt. */
export interface SendSpanInput {
  /** The publisher's name: `webhook`, `nats`, `routeros`, `console`, or your own. */
  system: string;
  destination: string;
  messageId: string;
  attempt: number;
  /** The message's headers, which may hold the producer's trace context. */
  headers: Readonly<Record<string, string>>;
  mode: TraceParentMode;
}

/**
 * One attempt's `send` span. Its `headers` are made on first read: a publisher that sends no
 * trace context (console, no-op, most custom ones) never pays for formatting them.
 *
 * @example
 * const span = startSendSpan(input); // nothing formatted yet
 * request.setHeader('traceparent', span.headers.traceparent); span.end({ result: { status: 200 } });
 */
export class SendSpan {
  #headers: TraceHeaders | undefined;

  constructor(
    private readonly span: OtelApi.Span,
    private readonly system: string,
    private readonly destination: string,
  ) {}

  /** The span's W3C trace context, for the receiver. */
  get headers(): TraceHeaders {
    this.#headers ??= headersOf(this.span);
    return this.#headers;
  }

  /** Records what the publisher returned or threw, and ends the span. */
  end(outcome: { result?: unknown; error?: unknown }): void {
    const span = this.span;
    // One setAttribute per fact the result holds, so a result that holds none (a no-op or
    // console publisher returns undefined) costs no attributes object.
    const r = outcome.result as Record<string, unknown> | null | undefined;
    if (r !== undefined && r !== null) {
      if (typeof r.status === 'number') span.setAttribute('http.response.status_code', r.status);
      if (typeof r.stream === 'string') span.setAttribute('outbox_relay.nats.stream', r.stream);
      if (typeof r.seq === 'number') span.setAttribute('outbox_relay.nats.seq', r.seq);
    }
    if (this.system === 'routeros')
      span.setAttribute('outbox_relay.routeros.device', this.destination.split(':')[1] ?? '');
    if (outcome.error !== undefined) endWithError(otel()!, span, outcome.error);
    span.end();
  }
}

/**
 * The relay's side: one `send <destination>` span per attempt (kind PRODUCER), a child of the
 * producer's stored context (`mode: 'child'`), or a new trace linked to it (`'link'`, what the
 * semantic conventions suggest when delivery may come hours later). Its `headers` go to the
 * receiver. Call only when `tracingActive()`.
 *
 * @example
 * const span = startSendSpan({ system: 'webhook', destination, messageId, attempt: 1, headers, mode: 'child' });
 * span.end({ result: { status: 200 } });
 */
export function startSendSpan(input: SendSpanInput): SendSpan {
  const o = otel()!;
  const parent = parseTraceparent(input.headers[TRACEPARENT_HEADER]);
  let parentContext: OtelApi.SpanContext | undefined;
  if (parent) {
    const state = input.headers[TRACESTATE_HEADER];
    parentContext = {
      traceId: parent.traceId,
      spanId: parent.spanId,
      traceFlags: parent.traceFlags,
      isRemote: true,
    };
    if (state) parentContext.traceState = o.createTraceState(state);
  }
  const options: OtelApi.SpanOptions = {
    kind: o.SpanKind.PRODUCER,
    attributes: {
      'messaging.system': input.system,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': input.destination,
      'messaging.message.id': input.messageId,
      'outbox_relay.attempt': input.attempt,
    },
  };
  // A link needs no `root: true` (which copies the context once more): the span starts from
  // ROOT_CONTEXT, which holds no parent.
  if (parentContext && input.mode === 'link') options.links = [{ context: parentContext }];
  const ctx =
    parentContext && input.mode === 'child'
      ? o.trace.setSpanContext(o.ROOT_CONTEXT, parentContext)
      : o.ROOT_CONTEXT;
  return new SendSpan(
    tracer(o).startSpan(`send ${input.destination}`, options, ctx),
    input.system,
    input.destination,
  );
}

function endWithError(o: typeof OtelApi, span: OtelApi.Span, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  span.setAttribute(
    'error.type',
    typeof code === 'string' ? code : error instanceof Error ? error.name : typeof error,
  );
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: o.SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
