import { expect, expectTypeOf, it } from 'vitest';
import { createOutbox, type NewMessage } from '../../src/core/producer/outbox.js';

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
