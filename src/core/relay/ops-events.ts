import type { Logger } from '../foundation/logger.js';
import type { OutboxMessage } from '../foundation/message.js';
import type { Queryable } from '../foundation/queryable.js';
import { createOutbox } from '../producer/outbox.js';
import type { DeadReason } from '../store/dead-reason.js';

/** The types of the operational events (docs/destinations.md#operational-events). */
export const OPS_EVENT_TYPES = {
  opened: 'outbox.destination.opened',
  closed: 'outbox.destination.closed',
  dead: 'outbox.message.dead',
} as const;

/**
 * Operational events written to the outbox itself, for one destination (`opsEventsDestination`,
 * e.g. `webhook:ops`): a breaker this relay opened or closed, a message it dead-lettered. They
 * are ordinary messages (retried, signed, visible like any other); the payload repeats the type
 * as `event`, for receivers whose body format carries the payload only. Nothing about the ops
 * destination itself is written to it: its own outage or dead letters would feed themselves.
 * Written after the state change committed, by the relay that made it: a crash in between loses
 * the event, never the state.
 *
 * @example
 * const ops = new OpsEvents(db, 'outbox', 'webhook:ops', logger);
 * ops.opened('webhook:acme', { probeMs: 5000 });
 */
export class OpsEvents {
  private readonly outbox;

  constructor(
    private readonly db: Queryable,
    schema: string,
    readonly destination: string,
    private readonly onError: (error: unknown, msg: string) => void,
    private readonly logger: Logger,
  ) {
    this.outbox = createOutbox({ schema });
  }

  opened(name: string, info: { probeMs: number }): void {
    this.write(name, OPS_EVENT_TYPES.opened, { destination: name, probeMs: info.probeMs });
  }

  closed(name: string, info: { released: number }): void {
    this.write(name, OPS_EVENT_TYPES.closed, { destination: name, released: info.released });
  }

  dead(message: OutboxMessage, reason: string, deadReason: DeadReason): void {
    this.write(message.destination, OPS_EVENT_TYPES.dead, {
      messageId: message.messageId,
      type: message.type,
      destination: message.destination,
      attempts: message.attempts,
      deadReason,
      reason,
    });
  }

  private write(about: string, type: string, payload: Record<string, string | number>): void {
    if (about === this.destination) return;
    this.outbox
      .add(this.db, {
        type,
        destination: this.destination,
        payload: { event: type, ...payload, at: new Date().toISOString() },
      })
      .then(
        () => this.logger.debug({ type, about }, 'ops event written'),
        (error: unknown) => this.onError(error, `writing the ops event ${type} failed`),
      );
  }
}
