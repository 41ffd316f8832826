import { startCreateSpan, TRACEPARENT_HEADER, tracingActive } from '../foundation/tracing.js';
import { OutboxValidationError } from '../foundation/errors.js';
import type { JsonEvents, JsonValue } from '../foundation/json-value.js';
import { MAX_ATTEMPTS_BOUNDS } from '../foundation/message.js';
import { requireInt } from '../foundation/option-checks.js';
import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import { type InsertRow, OutboxStore, preparedRunner } from '../store/index.js';
import { uuidV7 } from './uuid-v7.js';
import {
  headersJson,
  MAX_PAYLOAD_BYTES,
  optionalDate,
  optionalText,
  requireText,
  requireUuid,
  toJsonText,
} from './validate-message.js';

/** Default number of attempts before a message is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 25;

/** Destination of `add` when none is given. */
export const DEFAULT_DESTINATION = 'default';

/**
 * Map of event type to payload type, for type-checked `add` calls; payloads are JSON values
 * (a `bigint` is refused by the compiler). Your own map may use interfaces: any map whose
 * payloads are `Jsonable` fits (`createOutbox<Events>()`).
 */
export type EventMap = { readonly [type: string]: JsonValue };

/**
 * The destinations a relay with publishers keyed `R` serves: a key, or `<key>:<anything>`.
 *
 * @example
 * type D = Route<'webhook' | 'routeros'>; // 'webhook' | 'routeros' | `webhook:${string}` | `routeros:${string}`
 */
export type Route<R extends string> = R | `${R}:${string}`;

/**
 * The destinations a publishers map serves, for `createOutbox<Events, DestinationOf<typeof
 * publishers>>()`: then `add` refuses a destination no publisher serves, and requires one when
 * the map has no `default` (where a message without a destination goes).
 *
 * @example
 * const publishers = { webhook };
 * const outbox = createOutbox<Events, DestinationOf<typeof publishers>>();
 * outbox.add(trx, { type: 'invoice.paid', payload }); // compile error: destination is required
 */
export type DestinationOf<P> = Route<Extract<keyof P, string>>;

/**
 * `destination` as `D` allows it: any text when untyped (default `default`), else one of `D`,
 * optional only when `D` includes `default`.
 */
type DestinationField<D extends string> = string extends D
  ? { destination?: string }
  : 'default' extends D
    ? { destination?: D }
    : { destination: D };

/**
 * A message to add. With an `EventMap`, `payload` must match its `type`; with destinations
 * (`DestinationOf<typeof publishers>`), `destination` must be one of them.
 */
export type NewMessage<
  Events extends JsonEvents<Events> = EventMap,
  T extends keyof Events & string = keyof Events & string,
  D extends string = string,
> = {
  [K in T]: {
    type: K;
    payload: Events[K];
    tenantId?: string | null;
    /** Messages with the same key are delivered one at a time, in insertion order. */
    orderingKey?: string | null;
    /** Idempotency key (UUID). Default: a new UUIDv7. Adding an existing id is a no-op. */
    messageId?: string;
    headers?: Record<string, string>;
    /** Do not deliver before this time. */
    availableAt?: Date;
    maxAttempts?: number;
  } & DestinationField<D>;
}[T];

/** A device command, delivered by the RouterOS publisher (or any publisher routed by destination). */
export interface NewCommand {
  /** Device name; also the ordering key, so one device's commands apply in order. */
  device: string;
  /** e.g. `pppoe.create`, `queue.set`. */
  action: string;
  params: Record<string, unknown>;
  tenantId?: string | null;
  messageId?: string;
  /** Default `routeros:<device>` (see `commandDestination`). */
  destination?: string;
  headers?: Record<string, string>;
  availableAt?: Date;
  maxAttempts?: number;
}

/** Options of `createOutbox`. */
export interface OutboxOptions {
  /** Schema of the outbox tables. Default `outbox`. */
  schema?: string;
  /** Largest accepted payload, in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Attempts before dead-lettering, when a message does not say. Default 25. */
  maxAttempts?: number;
  /** Destination of messages added without one. Default `default`. */
  defaultDestination?: string;
  /** Destination of a command for a device. Default `routeros:<device>`. */
  commandDestination?: (device: string) => string;
  /**
   * Called after each add, with no arguments. Use it for a same-process wake-up
   * (`onAdded: () => relay.wake()`); it never runs SQL in your transaction.
   */
  onAdded?: () => void;
  /**
   * Run the INSERT as a named prepared statement when `trx` is a plain `pg` client or pool
   * (kysely cannot). Default true: it roughly doubles one-message transactions per second.
   * Set false behind PgBouncer in transaction mode older than 1.21.
   */
  preparedStatements?: boolean;
}

/** The producer side: writes messages in the caller's transaction. */
export interface Outbox<Events extends JsonEvents<Events> = EventMap, D extends string = string> {
  readonly schema: string;
  /** Adds one message in `trx`; resolves with its message_id. */
  add<T extends keyof Events & string>(trx: Queryable, message: NewMessage<Events, T, D>): Promise<string>;
  /** Adds many messages in one statement; resolves with their message_ids in order. */
  addMany(
    trx: Queryable,
    messages: readonly NewMessage<Events, keyof Events & string, D>[],
  ): Promise<string[]>;
  /** Adds a device command (kind `command`, ordered per device). */
  addCommand(trx: Queryable, command: NewCommand): Promise<string>;
}

/**
 * Creates the producer API. Call `add` with the transaction that writes your business rows:
 * the message commits or rolls back with them.
 *
 * @example
 * type Events = { 'invoice.paid': { invoiceId: string; amount: number } };
 * const outbox = createOutbox<Events>({ schema: 'outbox' });
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('invoices').set({ paid: true }).where('id', '=', id).execute();
 *   await outbox.add(trx, { type: 'invoice.paid', payload: { invoiceId: id, amount: 42 } });
 * });
 */
export function createOutbox<Events extends JsonEvents<Events> = EventMap, D extends string = string>(
  options: OutboxOptions = {},
): Outbox<Events, D> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const store = new OutboxStore(schema);
  const maxPayloadBytes = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  requireInt(maxPayloadBytes, 'maxPayloadBytes', { min: 1, max: 256 * 1024 * 1024 });
  const defaultMaxAttempts = requireInt(
    options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    'maxAttempts',
    MAX_ATTEMPTS_BOUNDS,
  );
  const defaultDestination = requireText(
    options.defaultDestination ?? DEFAULT_DESTINATION,
    'defaultDestination',
  );
  const commandDestination = options.commandDestination ?? ((device: string) => `routeros:${device}`);
  const onAdded = options.onAdded;
  const prepared = options.preparedStatements ?? true;
  const runner = (trx: Queryable) => (prepared ? preparedRunner(trx, store.hotPath) : sqlRunner(trx));

  // Payloads are checked at run time too (JavaScript callers, casts): here they are any value.
  function toRow(
    m: Omit<NewMessage<EventMap>, 'payload'> & { payload: unknown; kind?: 'event' | 'command' },
    prefix: string,
  ): InsertRow {
    if (m === null || typeof m !== 'object')
      throw new OutboxValidationError(prefix || 'message', 'must be an object');
    const f = (name: string) => (prefix ? `${prefix}.${name}` : name);
    return {
      messageId: m.messageId === undefined ? uuidV7() : requireUuid(m.messageId, f('messageId')),
      callerId: m.messageId !== undefined,
      kind: m.kind ?? 'event',
      type: requireText(m.type, f('type')),
      destination:
        m.destination === undefined ? defaultDestination : requireText(m.destination, f('destination')),
      tenantId: optionalText(m.tenantId, f('tenantId')),
      orderingKey: optionalText(m.orderingKey, f('orderingKey')),
      payload: toJsonText(m.payload, f('payload'), maxPayloadBytes),
      headers: m.headers === undefined ? '{}' : headersJson(m.headers, f('headers')),
      availableAt: optionalDate(m.availableAt, f('availableAt')),
      maxAttempts:
        m.maxAttempts === undefined
          ? defaultMaxAttempts
          : requireInt(m.maxAttempts, f('maxAttempts'), MAX_ATTEMPTS_BOUNDS),
    };
  }

  /**
   * Inserts validated rows in the caller's transaction. With a tracer provider registered, each
   * message gets a `create` span and carries its trace context in its headers (a `traceparent`
   * the caller set wins); without one, nothing of this runs.
   */
  async function insert(trx: Queryable, rows: InsertRow[], many: boolean): Promise<void> {
    const spans = tracingActive() ? rows.map(traced) : undefined;
    try {
      if (many) await store.insertMany(runner(trx), rows);
      else await store.insertOne(runner(trx), rows[0]!);
    } catch (error) {
      for (const span of spans ?? []) span.end(error);
      throw error;
    }
    for (const span of spans ?? []) span.end();
    onAdded?.();
  }

  return {
    schema,
    async add(trx, message) {
      const row = toRow(message as NewMessage<EventMap>, '');
      await insert(trx, [row], false);
      return row.messageId;
    },
    async addMany(trx, messages) {
      if (!Array.isArray(messages)) throw new OutboxValidationError('messages', 'must be an array');
      // Validate everything before writing anything: nothing is half-written.
      const rows = messages.map((m, i) => toRow(m as NewMessage<EventMap>, `messages[${i}]`));
      if (rows.length > 0) await insert(trx, rows, true);
      return rows.map((r) => r.messageId);
    },
    async addCommand(trx, command) {
      if (command === null || typeof command !== 'object')
        throw new OutboxValidationError('command', 'must be an object');
      const device = requireText(command.device, 'device');
      const action = requireText(command.action, 'action');
      if (command.params === null || typeof command.params !== 'object' || Array.isArray(command.params)) {
        throw new OutboxValidationError('params', 'must be an object of command parameters');
      }
      const row = toRow(
        {
          kind: 'command',
          type: action,
          payload: command.params,
          destination: command.destination ?? commandDestination(device),
          tenantId: command.tenantId,
          orderingKey: device,
          messageId: command.messageId,
          headers: command.headers,
          availableAt: command.availableAt,
          maxAttempts: command.maxAttempts,
        },
        '',
      );
      await insert(trx, [row], false);
      return row.messageId;
    },
  };
}

/** Starts a message's `create` span and stores its trace context in the message's headers. */
function traced(row: InsertRow): ReturnType<typeof startCreateSpan> {
  const span = startCreateSpan(row);
  // Most messages carry no headers of their own: theirs are the span's, without parsing '{}'.
  if (row.headers === '{}') {
    row.headers = JSON.stringify(span.headers);
    return span;
  }
  const own = JSON.parse(row.headers) as Record<string, string>;
  if (own[TRACEPARENT_HEADER] === undefined) row.headers = JSON.stringify({ ...span.headers, ...own });
  return span;
}
