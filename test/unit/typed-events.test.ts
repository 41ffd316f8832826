import { expect, expectTypeOf, it } from 'vitest';
import type { JsonValue } from '../../src/core/foundation/json-value.js';
import { createOutbox, type DestinationOf, type NewMessage } from '../../src/core/producer/outbox.js';
import { ConsolePublisher } from '../../src/publishers/console/console-publisher.js';

type Events = {
  'invoice.paid': { invoiceId: string; amountCents: number };
  'user.deleted': { userId: string };
};

// These checks run in `npm run typecheck` (CI): an @ts-expect-error that stops erroring fails it.
it('type-checks each payload against its event type', () => {
  const outbox = createOutbox<Events>();
  const ok: NewMessage<Events> = { type: 'invoice.paid', payload: { invoiceId: 'i1', amountCents: 5 } };
  // @ts-expect-error amountCents must be a number
  const wrong: NewMessage<Events> = { type: 'invoice.paid', payload: { invoiceId: 'i', amountCents: '5' } };
  // @ts-expect-error the payload of user.deleted has no invoiceId
  const crossed: NewMessage<Events> = { type: 'user.deleted', payload: { invoiceId: 'i1' } };
  // @ts-expect-error unknown event type
  const unknown: NewMessage<Events> = { type: 'invoice.lost', payload: {} };
  expectTypeOf(outbox.add).parameter(1).toMatchTypeOf<NewMessage<Events>>();
  expect([ok, wrong, crossed, unknown]).toHaveLength(4);
});

// Payloads are JSON: a bigint or a function is a compile error, as it is a run-time one.
it('refuses payload types JSON cannot carry, and accepts interfaces that it can', () => {
  interface Shipped {
    orderId: string;
    at: Date;
    lines: { sku: string; qty: number }[];
    note?: string | null;
  }
  const typed = createOutbox<{ 'order.shipped': Shipped }>();
  // @ts-expect-error a bigint is not JSON
  createOutbox<{ 'ledger.posted': { amount: bigint } }>();
  // @ts-expect-error neither is a function
  createOutbox<{ 'x.y': { run: () => void } }>();
  const untyped = createOutbox();
  const ok: NewMessage = { type: 'any.thing', payload: { a: [1, 'two', null, { b: true }] } };
  // @ts-expect-error an untyped outbox takes JSON values only
  const big: NewMessage = { type: 'any.thing', payload: { n: 1n } };
  expectTypeOf<JsonValue>().toMatchTypeOf<NewMessage['payload']>();
  expect([typed, untyped, ok, big]).toHaveLength(4);
});

// The first-hour trap: `add` without a destination writes to "default", which a relay given
// `{ webhook }` never claims. Typed from the publishers map, the compiler says so.
it('types destination from the publishers map, and requires one when nothing serves default', () => {
  const webhook = new ConsolePublisher();
  const publishers = { webhook, routeros: webhook };
  const outbox = createOutbox<Events, DestinationOf<typeof publishers>>();
  const served: NewMessage<Events, 'user.deleted', DestinationOf<typeof publishers>> = {
    type: 'user.deleted',
    destination: 'routeros:tower-3',
    payload: { userId: 'u1' },
  };
  // @ts-expect-error no publisher serves "default": a destination is required
  const none: NewMessage<Events, 'user.deleted', DestinationOf<typeof publishers>> = {
    type: 'user.deleted',
    payload: { userId: 'u1' },
  };
  const unserved: NewMessage<Events, 'user.deleted', DestinationOf<typeof publishers>> = {
    type: 'user.deleted',
    // @ts-expect-error no publisher serves "nats"
    destination: 'nats',
    payload: { userId: 'u1' },
  };
  const withDefault = { default: webhook };
  const optional: NewMessage<Events, 'user.deleted', DestinationOf<typeof withDefault>> = {
    type: 'user.deleted',
    payload: { userId: 'u1' },
  };
  expectTypeOf(outbox.add)
    .parameter(1)
    .toMatchTypeOf<NewMessage<Events, keyof Events & string, DestinationOf<typeof publishers>>>();
  expect([served, none, unserved, optional]).toHaveLength(4);
});
