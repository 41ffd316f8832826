import type { OutboxMessage } from '../../src/core/foundation/message.js';
import type { Publisher, PublishContext } from '../../src/core/foundation/publisher.js';

/** What a RecordingPublisher saw for one call. */
export interface PublishCall {
  message: OutboxMessage;
  attempt: number;
  at: number;
}

/**
 * A real Publisher for tests: records every call and lets a test script the outcome per
 * message (succeed, throw, hang), so relay behaviour is asserted without any mock library.
 */
export class RecordingPublisher implements Publisher {
  readonly name: string;
  readonly calls: PublishCall[] = [];
  /** Decides each call's outcome; default: succeed. */
  behaviour: (message: OutboxMessage, context: PublishContext) => unknown | Promise<unknown>;
  private active = 0;
  maxActive = 0;
  closed = 0;

  constructor(name = 'recording', behaviour?: RecordingPublisher['behaviour']) {
    this.name = name;
    this.behaviour = behaviour ?? (() => undefined);
  }

  async publish(message: OutboxMessage, context: PublishContext): Promise<unknown> {
    this.calls.push({ message, attempt: context.attempt, at: Date.now() });
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      return await this.behaviour(message, context);
    } finally {
      this.active--;
    }
  }

  async close(): Promise<void> {
    this.closed++;
  }

  /** Deliveries per message_id. */
  countsByMessageId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.calls) counts.set(c.message.messageId, (counts.get(c.message.messageId) ?? 0) + 1);
    return counts;
  }
}

/** A clock tests move by hand. */
export class ManualClock {
  private ms: number;
  constructor(start = Date.now()) {
    this.ms = start;
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(date: Date): void {
    this.ms = date.getTime();
  }
}

/** Polls `check` until it returns true or the deadline passes (then throws with `what`). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
