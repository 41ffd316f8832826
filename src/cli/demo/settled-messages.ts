import { OutboxError } from '../../core/foundation/errors.js';
import type { Relay } from '../../core/relay/relay.js';

/**
 * Remembers which messages the relay finished (delivered or dead), from its events, so the
 * demo awaits completion instead of polling the table. The relay emits an event only after
 * the row's final state is written, so once every id is settled the database agrees.
 *
 * @example
 * const settled = new SettledMessages(relay);
 * await settled.waitFor(committedIds, { timeoutMs: 120_000, describe: () => progress() });
 */
export class SettledMessages {
  readonly #settled = new Set<string>();
  #waiting: { pending: Set<string>; done(): void } | undefined;

  constructor(relay: Relay) {
    relay.on('delivered', (message) => this.#settle(message.messageId));
    relay.on('dead', (message) => this.#settle(message.messageId));
  }

  #settle(messageId: string): void {
    this.#settled.add(messageId);
    const waiting = this.#waiting;
    if (waiting?.pending.delete(messageId) && waiting.pending.size === 0) waiting.done();
  }

  /**
   * Resolves once every message in `messageIds` was delivered or dead; rejects after
   * `timeoutMs` naming how many are still open and `describe()`'s view of the run.
   */
  waitFor(messageIds: readonly string[], options: { timeoutMs: number; describe(): string }): Promise<void> {
    const pending = new Set(messageIds.filter((id) => !this.#settled.has(id)));
    if (pending.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(
          new OutboxError(
            'DEMO_TIMEOUT',
            `${pending.size} of ${messageIds.length} messages were neither delivered nor dead after ` +
              `${options.timeoutMs} ms; ${options.describe()}`,
          ),
        );
      }, options.timeoutMs);
      this.#waiting = {
        pending,
        done: () => {
          clearTimeout(timer);
          this.#waiting = undefined;
          resolve();
        },
      };
    });
  }
}
