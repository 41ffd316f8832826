import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import type { Logger } from '../../src/core/foundation/logger.js';
import type { OutboxMessage } from '../../src/core/foundation/message.js';
import type { Publisher, PublishContext } from '../../src/core/foundation/publisher.js';

/** How long a publisher may take to give up after its signal aborts. */
export const CONTRACT_ABORT_DEADLINE_MS = 2_000;

/**
 * An outbox message as the relay would hand it over (frozen: publishers must not mutate it).
 *
 * @example
 * await publisher.publish(makeTestMessage({ destination: 'webhook:acme' }), testContext());
 */
export function makeTestMessage(overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  const payload = overrides.payload ?? { invoiceId: 'inv_1', amount: 42 };
  return Object.freeze({
    id: '1',
    messageId: randomUUID(),
    kind: 'event',
    type: 'invoice.paid',
    destination: 'default',
    tenantId: null,
    orderingKey: null,
    payload,
    // jsonb's own text form (space after ':' and ','), not JSON.stringify's.
    body: overrides.body ?? JSON.stringify(payload).replace(/":/g, '": ').replace(/,"/g, ', "'),
    headers: Object.freeze({}),
    attempts: 1,
    maxAttempts: 25,
    createdAt: new Date(),
    ...overrides,
  } satisfies OutboxMessage);
}

/**
 * A device command as `outbox.addCommand` would produce it: kind `command`, routed and
 * ordered by device.
 *
 * @example
 * await routeros.publish(makeTestCommand('pppoe.delete', { name: 'alice' }, 'tower-2'), testContext());
 */
export function makeTestCommand(
  type: string,
  payload: unknown,
  device = 'tower-1',
  overrides: Partial<OutboxMessage> = {},
): OutboxMessage {
  return makeTestMessage({
    kind: 'command',
    type,
    payload,
    body: JSON.stringify(payload),
    destination: `routeros:${device}`,
    orderingKey: device,
    ...overrides,
  });
}

/** A logger that keeps every line, so tests can look for leaked secrets. */
export interface RecordingLogger extends Logger {
  readonly lines: { level: string; obj: object; msg?: string }[];
}

/**
 * Records log lines (children share the record).
 *
 * @example
 * const logger = recordingLogger(); ... expect(JSON.stringify(logger.lines)).not.toContain(secret);
 */
export function recordingLogger(
  lines: RecordingLogger['lines'] = [],
  bindings: Record<string, unknown> = {},
): RecordingLogger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: { ...bindings, ...obj }, ...(msg === undefined ? {} : { msg }) });
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

/**
 * A publish context with a signal, attempt number and a recording logger.
 *
 * @example
 * await publisher.publish(message, testContext({ signal: AbortSignal.timeout(1000) }));
 */
export function testContext(
  overrides: Partial<PublishContext> = {},
): PublishContext & { logger: RecordingLogger } {
  return {
    signal: new AbortController().signal,
    attempt: 1,
    ...overrides,
    logger: (overrides.logger as RecordingLogger | undefined) ?? recordingLogger(),
  };
}

/**
 * What a contract test needs from a publisher under test. Scenario hooks switch how the next
 * publishes behave; leave out the ones the publisher cannot produce (a console publisher
 * cannot fail permanently) and name that in `publisherContract`'s `without`, so those
 * tests are not registered at all (never reported as skipped-but-passing).
 */
export interface PublisherContractSubject {
  readonly publisher: Publisher;
  /** A message this publisher can deliver (default `makeTestMessage()`). */
  message?(): OutboxMessage;
  /** Make later publishes fail in a way worth retrying. */
  failTransiently?(): void | Promise<void>;
  /** Make later publishes fail in a way retrying cannot fix. */
  failPermanently?(): void | Promise<void>;
  /** Make later publishes hang until aborted. */
  hang?(): void | Promise<void>;
  /** Strings that must never appear in logs or errors (secrets, passwords). */
  readonly secrets?: readonly string[];
  /** Releases whatever the subject started (servers); the suite closes the publisher itself. */
  cleanup?(): Promise<void>;
}

function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(String((e as Error).message ?? e), String((e as Error).stack ?? ''));
  }
  return parts.join('\n');
}

async function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`publish did not settle within ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([promise, timeout]);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('publish did not settle')) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers the tests every `Publisher` must pass, so the relay can rely on the same
 * behaviour from built-in and user publishers alike.
 *
 * @example
 * publisherContract('console', () => ({ publisher: new ConsolePublisher({ logger: NOOP_LOGGER }) }));
 */
export function publisherContract(
  name: string,
  makeSubject: () => PublisherContractSubject | Promise<PublisherContractSubject>,
  options: { without?: ReadonlyArray<'failTransiently' | 'failPermanently' | 'hang'> } = {},
): void {
  // Scenarios a publisher cannot produce are not registered, rather than reported as skipped.
  const onlyIf = (registered: boolean) => (registered ? it : (..._args: Parameters<typeof it>) => undefined);
  const has = (scenario: 'failTransiently' | 'failPermanently' | 'hang') =>
    !options.without?.includes(scenario);
  describe(`publisher contract: ${name}`, () => {
    let subject: PublisherContractSubject | undefined;
    const open = async (): Promise<PublisherContractSubject> => {
      subject = await makeSubject();
      return subject;
    };
    const messageOf = (s: PublisherContractSubject) => s.message?.() ?? makeTestMessage();
    const assertNoSecrets = (s: PublisherContractSubject, ...texts: string[]) => {
      for (const secret of s.secrets ?? []) {
        for (const text of texts) expect(text.includes(secret), 'a secret leaked').toBe(false);
      }
    };

    afterEach(async () => {
      const s = subject;
      subject = undefined;
      if (!s) return;
      await s.publisher.close?.();
      await s.cleanup?.();
    });

    it('has a non-empty name', async () => {
      const s = await open();
      expect(typeof s.publisher.name).toBe('string');
      expect(s.publisher.name.length).toBeGreaterThan(0);
    });

    it('resolves for a deliverable message, with a value the relay can store as JSON', async () => {
      const s = await open();
      const context = testContext();
      const result = await s.publisher.publish(messageOf(s), context);
      if (result !== undefined) expect(() => JSON.stringify(result)).not.toThrow();
      assertNoSecrets(s, JSON.stringify(context.logger.lines));
    });

    it('delivers many messages published concurrently', async () => {
      const s = await open();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => s.publisher.publish(messageOf(s), testContext())),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    });

    onlyIf(has('failTransiently'))(
      'rejects a transient failure with an Error that is not a PermanentPublishError',
      async () => {
        const s = await open();
        if (!s.failTransiently)
          throw new Error('subject must provide failTransiently() or list it in `without`');
        await s.failTransiently();
        const context = testContext();
        const error = await s.publisher.publish(messageOf(s), context).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(PermanentPublishError);
        expect(error).toBeInstanceOf(TransientPublishError);
        assertNoSecrets(s, errorText(error), JSON.stringify(context.logger.lines));
      },
    );

    onlyIf(has('failPermanently'))(
      'rejects a permanent failure with PermanentPublishError and a reason',
      async () => {
        const s = await open();
        if (!s.failPermanently)
          throw new Error('subject must provide failPermanently() or list it in `without`');
        await s.failPermanently();
        const context = testContext();
        const error = await s.publisher.publish(messageOf(s), context).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(PermanentPublishError);
        expect((error as Error).message.length).toBeGreaterThan(0);
        assertNoSecrets(s, errorText(error), JSON.stringify(context.logger.lines));
      },
    );

    onlyIf(has('hang'))(
      `gives up within ${CONTRACT_ABORT_DEADLINE_MS} ms of its signal aborting, as a retryable failure`,
      async () => {
        const s = await open();
        if (!s.hang) throw new Error('subject must provide hang() or list it in `without`');
        await s.hang();
        const controller = new AbortController();
        const pending = s.publisher.publish(messageOf(s), testContext({ signal: controller.signal }));
        setTimeout(() => controller.abort(new Error('relay stopping')), 50);
        const started = Date.now();
        const outcome = await settleWithin(pending, CONTRACT_ABORT_DEADLINE_MS + 100);
        expect(Date.now() - started).toBeLessThan(CONTRACT_ABORT_DEADLINE_MS);
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(outcome.error).not.toBeInstanceOf(PermanentPublishError);
      },
    );

    it('settles promptly, never as a permanent failure, when its signal is already aborted', async () => {
      const s = await open();
      const controller = new AbortController();
      controller.abort(new Error('relay stopping'));
      const outcome = await settleWithin(
        s.publisher.publish(messageOf(s), testContext({ signal: controller.signal })),
        CONTRACT_ABORT_DEADLINE_MS,
      );
      if (!outcome.ok) expect(outcome.error).not.toBeInstanceOf(PermanentPublishError);
    });

    it('does not mutate the message it is given', async () => {
      const s = await open();
      const message = messageOf(s);
      const before = JSON.stringify(message);
      await s.publisher.publish(message, testContext()).catch(() => undefined);
      expect(JSON.stringify(message)).toBe(before);
    });

    it('closes idempotently', async () => {
      const s = await open();
      await s.publisher.publish(messageOf(s), testContext());
      await s.publisher.close?.();
      await s.publisher.close?.();
    });
  });
}
