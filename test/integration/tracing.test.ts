import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { natsTestServer } from '../../bench/support/nats-server.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import type { Publisher } from '../../src/core/foundation/publisher.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import { NatsPublisher } from '../../src/publishers/nats/index.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { readStream } from '../support/nats-stream.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const exporter = new InMemorySpanExporter();
const tracer = () => trace.getTracer('test');

let t: TestDatabase;
let receiver: WebhookReceiver;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // What an application's OpenTelemetry setup does (NodeSDK does the same three things).
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  t = await createTestDatabase({ poolSize: 10 });
});
afterAll(async () => {
  await t?.close();
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(async () => {
  exporter.reset();
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
  receiver = await startWebhookReceiver({ secrets: [SECRET] });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await receiver.close();
});

function relayWith(publishers: Record<string, Publisher>, extra: Partial<RelayOptions> = {}) {
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers,
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
    retry: { baseDelayMs: 5, factor: 1, maxDelayMs: 5, jitter: 0 },
    ...extra,
  });
  cleanups.push(() => relay.stop());
  return relay;
}

function webhook(): WebhookPublisher {
  const publisher = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    secrets: [SECRET],
    allowPrivateNetworks: true,
  });
  cleanups.push(() => publisher.close());
  return publisher;
}

/** The service's side: an HTTP request span, inside which the order and its event are written. */
async function inRequest(write: () => Promise<string>): Promise<{ span: ReadableSpan; messageId: string }> {
  const span = tracer().startSpan('POST /orders', { kind: SpanKind.SERVER });
  const messageId = await context.with(trace.setSpan(context.active(), span), write);
  span.end();
  return { span: span as unknown as ReadableSpan, messageId };
}

/** The receiver's side: continues the trace from the request's headers, as an instrumented server would. */
function receiverSpan(headers: Record<string, string | string[] | undefined>): ReadableSpan {
  const parent = propagation.extract(context.active(), headers);
  const span = tracer().startSpan('receive order.created', { kind: SpanKind.CONSUMER }, parent);
  span.end();
  return span as unknown as ReadableSpan;
}

const spansNamed = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('OpenTelemetry tracing', () => {
  it('follows a message in one trace: request, create, send, receiver, with the signature intact', async () => {
    const outbox = createOutbox({ schema: t.schema });
    const { span: request, messageId } = await inRequest(() =>
      outbox.add(t.db, { type: 'order.created', destination: 'webhook', payload: { order: 4711 } }),
    );
    relayWith({ webhook: webhook() }).start();
    await receiver.waitFor(() => receiver.requests.length === 1);
    const got = receiver.requests[0]!;
    // Still a valid Standard Webhooks request with the trace headers on it.
    expect(got.verified).toBe(true);
    new Webhook(SECRET).verify(got.body, got.headers as Record<string, string>);
    const received = receiverSpan(got.headers);
    await waitFor(async () => spansNamed('send webhook').length === 1, 'the send span');

    const traceId = request.spanContext().traceId;
    const [create] = spansNamed('create webhook');
    const [send] = spansNamed('send webhook');
    expect(create!.kind).toBe(SpanKind.PRODUCER);
    expect(create!.spanContext().traceId).toBe(traceId);
    expect(parentOf(create!)).toBe(request.spanContext().spanId);
    expect(send!.spanContext().traceId).toBe(traceId);
    expect(parentOf(send!)).toBe(create!.spanContext().spanId);
    expect(send!.attributes).toMatchObject({
      'messaging.system': 'webhook',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'webhook',
      'messaging.message.id': messageId,
      'outbox_relay.attempt': 1,
      'http.response.status_code': 200,
    });
    expect(received.spanContext().traceId).toBe(traceId);
    expect(parentOf(received)).toBe(send!.spanContext().spanId);
  });

  it('gives a retried message one span per attempt, the failure recorded on the first', async () => {
    receiver.respond((_request, n) => (n === 0 ? reply.status(503, 'down') : reply.ok()));
    const outbox = createOutbox({ schema: t.schema });
    await inRequest(() => outbox.add(t.db, { type: 'order.created', destination: 'webhook', payload: {} }));
    relayWith({ webhook: webhook() }).start();
    await waitFor(async () => spansNamed('send webhook').length === 2, 'two send spans');
    const [create] = spansNamed('create webhook');
    const sends = spansNamed('send webhook').sort(
      (a, b) => Number(a.attributes['outbox_relay.attempt']) - Number(b.attributes['outbox_relay.attempt']),
    );
    expect(sends.map((s) => s.attributes['outbox_relay.attempt'])).toEqual([1, 2]);
    expect(sends[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(sends[0]!.attributes['error.type']).toBe('PUBLISH_TRANSIENT');
    expect(sends[0]!.events.map((e) => e.name)).toContain('exception');
    expect(sends[1]!.status.code).not.toBe(SpanStatusCode.ERROR);
    for (const s of sends) expect(parentOf(s)).toBe(create!.spanContext().spanId);
    // Each attempt told the receiver its own span.
    const sent = receiver.requests.map((r) => r.headers.traceparent);
    expect(sent).toEqual(sends.map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`));
  });

  it("starts a new trace linked to the producer's with traceParent: 'link'", async () => {
    const outbox = createOutbox({ schema: t.schema });
    const { span: request } = await inRequest(() =>
      outbox.add(t.db, { type: 'order.created', destination: 'webhook', payload: {} }),
    );
    relayWith({ webhook: webhook() }, { traceParent: 'link' }).start();
    await waitFor(async () => spansNamed('send webhook').length === 1, 'the send span');
    const [create] = spansNamed('create webhook');
    const [send] = spansNamed('send webhook');
    expect(send!.spanContext().traceId).not.toBe(request.spanContext().traceId);
    expect(parentOf(send!)).toBeUndefined();
    expect(send!.links.map((l) => l.context.spanId)).toEqual([create!.spanContext().spanId]);
  });

  it('carries the trace through NATS JetStream to the consumer', async () => {
    const nats = await natsTestServer();
    cleanups.push(() => nats.close());
    const id = randomBytes(4).toString('hex');
    const nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.add({ name: `T_${id}`, subjects: [`t${id}.>`] });
    await nc.close();
    const publisher = new NatsPublisher({ servers: nats.url, subjectPrefix: `t${id}` });
    cleanups.push(() => publisher.close());
    const outbox = createOutbox({ schema: t.schema });
    const { span: request } = await inRequest(() =>
      outbox.add(t.db, { type: 'order.created', destination: 'nats', payload: {} }),
    );
    relayWith({ nats: publisher }).start();
    // The send span ends once JetStream acknowledged the message: the stream then holds it.
    await waitFor(async () => spansNamed('send nats').length === 1, 'the send span');
    const [message] = await readStream(nats.url, `T_${id}`);
    const [send] = spansNamed('send nats');
    expect(send!.attributes).toMatchObject({
      'outbox_relay.nats.stream': `T_${id}`,
      'outbox_relay.nats.seq': 1,
    });
    const received = receiverSpan({ traceparent: message!.traceparent });
    expect(received.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(parentOf(received)).toBe(send!.spanContext().spanId);
  });
});
