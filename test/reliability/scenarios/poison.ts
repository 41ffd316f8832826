import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { OutboxValidationError, PermanentPublishError } from '../../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../../src/core/foundation/logger.js';
import type { JsonValue } from '../../../src/core/foundation/json-value.js';
import { createOutbox } from '../../../src/core/producer/outbox.js';
import { createRelay } from '../../../src/core/relay/relay.js';
import { MAX_PAYLOAD_BYTES } from '../../../src/core/producer/validate-message.js';
import { waitFor } from '../../support/recording-publisher.js';
import {
  Deliveries,
  Ledger,
  type ScenarioDatabase,
  statusCounts,
  type Verdict,
  verify,
  waitForDrained,
} from '../harness.js';

/** What a poison input is expected to end as. */
type Expectation = 'delivered' | 'dead' | 'rejected';

/** Values a careless publisher throws instead of Errors. */
const NON_ERRORS: unknown[] = ['a plain string', undefined, null, 42, { code: 'E_WEIRD' }, [1, 2]];

function nested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? { d: v } : [v];
  return v;
}

/** Hostile inputs for the `default` destination: payload, and whether add must reject it. */
function payloadCases(): Array<{ name: string; payload: unknown; expect: Expectation }> {
  return [
    { name: 'exactly at the size limit', payload: 'x'.repeat(MAX_PAYLOAD_BYTES - 2), expect: 'delivered' },
    { name: 'one byte over the limit', payload: 'x'.repeat(MAX_PAYLOAD_BYTES - 1), expect: 'rejected' },
    { name: 'nested 1000 deep', payload: nested(1000), expect: 'delivered' },
    {
      name: 'unicode edge cases',
      payload: {
        emoji: '👩‍👩‍👧‍👦🏳️‍🌈',
        paired: '\ud83d\ude00',
        bom: '\ufeff',
        nonchar: '\uffff',
        separators: '\u2028\u2029',
        rtl: '\u202egnp.exe',
        combining: 'e\u0301\u0301\u0301',
        escapedNulText: '\\u0000',
        controls: '\u0001\u001f\u007f',
      },
      expect: 'delivered',
    },
    { name: 'lone high surrogate', payload: { s: 'a\ud800b' }, expect: 'rejected' },
    { name: 'lone low surrogate', payload: { s: '\udfff' }, expect: 'rejected' },
    { name: 'NUL character', payload: { s: 'a\u0000b' }, expect: 'rejected' },
    { name: 'NUL in a key', payload: { 'k\u0000': 1 }, expect: 'rejected' },
  ];
}

/**
 * Poison on every side: payloads at the limit, deep, and full of unicode traps; publishers
 * that throw non-Errors, fail permanently or hang past the attempt deadline; a destination
 * nobody serves. Each message must end delivered or dead with a reason, the relay must keep
 * running, and healthy keys must not wait on the poisoned ones.
 */
export async function poisonScenario(
  t: ScenarioDatabase,
  sizes: { healthy: number; poisonedPerKind: number },
): Promise<
  Verdict & {
    rejected: string[];
    deadReasons: Record<string, string[]>;
    healthyDoneWhileHanging: boolean;
    relayErrors: number;
    roundTripMismatches: string[];
  }
> {
  const startedAt = Date.now();
  const outbox = createOutbox({ schema: t.schema });
  const ledger = new Ledger();
  const deliveries = new Deliveries();
  const expectDead = new Map<string, string>();
  const sent = new Map<string, unknown>();
  const roundTripMismatches: string[] = [];
  let hanging = 0;
  let thrown = 0;
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    logger: NOOP_LOGGER,
    pollIntervalMs: 10,
    batchSize: 20,
    concurrency: 8,
    leaseMs: 10_000,
    publishTimeoutMs: 300,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    // The scenario's 'nowhere' rows must die, not wait for a relay that serves them.
    deadLetterUnroutable: true,
    // Its 'throwing' and 'hang' destinations fail every message: to the circuit breaker that is
    // an outage, whose messages wait for a probe instead of dying. The dead-letter path is what
    // this scenario checks (test/integration/circuit-breaker.test.ts checks the breaker).
    breaker: { enabled: false },
    publishers: {
      default: {
        name: 'ledger',
        async publish(message) {
          const want = sent.get(message.messageId);
          // Deep equality, not text: jsonb stores object keys in its own order.
          if (want !== undefined && !isDeepStrictEqual(message.payload, want))
            roundTripMismatches.push(message.messageId);
          deliveries.record(message.messageId);
        },
      },
      throwing: {
        name: 'throws-non-errors',
        async publish() {
          throw NON_ERRORS[thrown++ % NON_ERRORS.length];
        },
      },
      permanent: {
        name: 'permanent',
        async publish() {
          throw new PermanentPublishError('receiver says this can never work (422)');
        },
      },
      hang: {
        name: 'hangs-forever',
        publish() {
          hanging++;
          return new Promise(() => undefined); // ignores its signal on purpose
        },
      },
    },
  });
  let relayErrors = 0;
  relay.on('error', () => {
    relayErrors++;
  });
  const rejected: string[] = [];
  const add = async (m: {
    destination: string;
    key: string | null;
    payload: unknown;
    maxAttempts?: number;
  }) => {
    const messageId = randomUUID();
    const seq = ledger.nextSeq(m.key);
    await outbox.add(t.db, {
      type: 'poison',
      messageId,
      destination: m.destination,
      orderingKey: m.key,
      payload: m.payload as JsonValue, // poison on purpose: the run-time guard's to refuse
      ...(m.maxAttempts ? { maxAttempts: m.maxAttempts } : {}),
    });
    ledger.committed.set(messageId, { key: m.key, seq });
    return messageId;
  };
  relay.start();
  try {
    for (const c of payloadCases()) {
      try {
        const id = await add({ destination: 'default', key: 'payloads', payload: c.payload });
        sent.set(id, c.payload);
        if (c.expect !== 'delivered') roundTripMismatches.push(`${c.name}: accepted, expected rejection`);
      } catch (error) {
        if (c.expect !== 'rejected' || !(error instanceof OutboxValidationError))
          throw new Error(`${c.name}: add failed unexpectedly: ${String(error)}`, { cause: error });
        rejected.push(`${c.name}: ${error.message}`);
      }
    }
    for (let i = 0; i < sizes.poisonedPerKind; i++) {
      const key = i % 2 ? null : `poison-${i % 4}`;
      expectDead.set(await add({ destination: 'throwing', key, payload: { i }, maxAttempts: 3 }), 'throwing');
      expectDead.set(await add({ destination: 'permanent', key, payload: { i } }), 'permanent');
      expectDead.set(await add({ destination: 'hang', key, payload: { i }, maxAttempts: 2 }), 'hang');
      expectDead.set(await add({ destination: 'nowhere', key, payload: { i } }), 'nowhere');
    }
    const healthy = await outbox.addMany(
      t.db,
      Array.from({ length: sizes.healthy }, (_, i) => ({
        type: 'healthy',
        orderingKey: `healthy-${i % 50}`,
        payload: { i },
      })),
    );
    // addMany keeps order within each key: the ledger learns it in the same order.
    healthy.forEach((id, i) => {
      ledger.committed.set(id, { key: `healthy-${i % 50}`, seq: ledger.nextSeq(`healthy-${i % 50}`) });
    });
    await waitFor(
      () => healthy.every((id) => deliveries.counts.has(id)),
      'healthy messages delivered',
      30_000 + 5 * sizes.healthy,
    );
    const counts = await statusCounts(t);
    const healthyDoneWhileHanging = counts.pending + counts.in_flight > 0;
    await waitForDrained(t, 'every poisoned message to end', 60_000);
    const { rows } = await t.pool.query<{ message_id: string; last_error: string }>(
      `select message_id::text, last_error from "${t.schema}".messages where status = 'dead'`,
    );
    const deadReasons: Record<string, string[]> = {};
    for (const r of rows) {
      const reason = expectDead.get(r.message_id) ?? 'unexpected';
      deadReasons[reason] = [...(deadReasons[reason] ?? []), r.last_error];
    }
    const verdict = await verify(t, ledger, deliveries, {
      scenario: '5 poison input',
      startedAt,
      expectDead: (id) => expectDead.has(id),
    });
    if (!relay.running) verdict.problems.push('the relay stopped running');
    if (hanging === 0) verdict.problems.push('the hanging publisher was never called');
    return { ...verdict, rejected, deadReasons, healthyDoneWhileHanging, relayErrors, roundTripMismatches };
  } finally {
    await relay.stop({ timeoutMs: 500 });
  }
}
