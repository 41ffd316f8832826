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
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/**
 * Parses a `traceparent`; undefined when it is missing or malformed (a bad header never fails a
 * delivery, the span then starts a trace of its own).
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceId // '4bf9...'
 */
export function parseTraceparent(
  text: string | undefined,
): { traceId: string; spanId: string; traceFlags: number } | undefined {
  const m = text ? TRACEPARENT.exec(text.trim()) : null;
  if (!m || m[1] === 'ff' || m[2] === INVALID_TRACE_ID || m[3] === INVALID_SPAN_ID) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, traceFlags: Number.parseInt(m[4]!, 16) };
}

function headersOf(span: OtelApi.Span): TraceHeaders {
  const ctx = span.spanContext();
  const state = ctx.traceState?.serialize();
  return { traceparent: formatTraceparent(ctx), ...(state ? { tracestate: state } : {}) };
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
  const span = o.trace.getTracer('outbox-relay').startSpan(`create ${message.destination}`, {
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
 * The relay's side: one `send <destination>` span per attempt (kind PRODUCER), a child of the
 * producer's stored context (`mode: 'child'`), or a new trace linked to it (`'link'`, what the
 * semantic conventions suggest when delivery may come hours later). Its `headers` go to the
 * receiver. Call only when `tracingActive()`.
 *
 * @example
 * const span = startSendSpan({ system: 'webhook', destination, messageId, attempt: 1, headers, mode: 'child' });
 * span.end({ result: { status: 200 } });
 */
export function startSendSpan(input: SendSpanInput): {
  headers: TraceHeaders;
  end(outcome: { result?: unknown; error?: unknown }): void;
} {
  const o = otel()!;
  const parent = parseTraceparent(input.headers[TRACEPARENT_HEADER]);
  const parentContext = parent
    ? {
        ...parent,
        isRemote: true,
        ...(input.headers[TRACESTATE_HEADER]
          ? { traceState: o.createTraceState(input.headers[TRACESTATE_HEADER]) }
          : {}),
      }
    : undefined;
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
    ...(parentContext && input.mode === 'link' ? { links: [{ context: parentContext }], root: true } : {}),
  };
  const ctx =
    parentContext && input.mode === 'child'
      ? o.trace.setSpanContext(o.ROOT_CONTEXT, parentContext)
      : o.ROOT_CONTEXT;
  const span = o.trace.getTracer('outbox-relay').startSpan(`send ${input.destination}`, options, ctx);
  return {
    headers: headersOf(span),
    end(outcome) {
      if (outcome.result !== undefined || input.system === 'routeros')
        span.setAttributes(resultAttributes(input.system, input.destination, outcome.result));
      if (outcome.error !== undefined) endWithError(o, span, outcome.error);
      span.end();
    },
  };
}

/** What a publisher's result says about where the message went, as span attributes. */
function resultAttributes(system: string, destination: string, result: unknown): OtelApi.Attributes {
  const attributes: OtelApi.Attributes = {};
  const r = (result ?? {}) as Record<string, unknown>;
  if (typeof r.status === 'number') attributes['http.response.status_code'] = r.status;
  if (typeof r.stream === 'string') attributes['outbox_relay.nats.stream'] = r.stream;
  if (typeof r.seq === 'number') attributes['outbox_relay.nats.seq'] = r.seq;
  if (system === 'routeros') attributes['outbox_relay.routeros.device'] = destination.split(':')[1] ?? '';
  return attributes;
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
