import type { Kysely } from 'kysely';
import type { Outbox } from '../../core/producer/outbox.js';
import type { DemoPayload } from './demo-receiver.js';
import { DEMO_DEVICES } from './demo-router.js';
import { FAIL_FIRST_HEADER } from './flaky-publisher.js';

const CUSTOMERS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'];

/** Transactions the workload runs at once. */
const WRITERS = 8;

/** What the workload wrote, filled in while it runs (the progress line reads it). */
export interface WorkloadTally {
  committedOrders: number;
  /** message_ids of messages whose transaction committed. */
  readonly committedIds: string[];
  /** message_ids of messages whose transaction rolled back: they must never be sent. */
  readonly rolledBackIds: string[];
}

/**
 * Creates the demo's business table, `<schema>.demo_orders`, next to the outbox.
 *
 * @example
 * await createOrdersTable(db, 'outbox');
 */
export async function createOrdersTable(db: Kysely<any>, schema: string): Promise<void> {
  await db.schema
    .withSchema(schema)
    .createTable('demo_orders')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('customer', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'integer', (c) => c.notNull())
    .execute();
}

/** A business failure: the order's transaction rolls back with its messages. */
class PaymentDeclined extends Error {}

/**
 * Writes `orders` orders, each in one transaction with its messages: an `order.created` event
 * (every 2nd to a webhook, the rest to the console, every 7th failing twice first), a PPPoE
 * command for every 5th, an event the receiver refuses for every 50th, an event that fails
 * more often than its 2 attempts allow for every 60th; every 10th order rolls back.
 *
 * @example
 * const tally: WorkloadTally = { committedOrders: 0, committedIds: [], rolledBackIds: [] };
 * await runWorkload({ db, outbox, schema, orders: 300, afterCommit: () => relay.wake() }, tally);
 */
export async function runWorkload(
  options: { db: Kysely<any>; outbox: Outbox; schema: string; orders: number; afterCommit(): void },
  tally: WorkloadTally,
): Promise<void> {
  const { db, outbox, schema } = options;
  const writeOrder = async (i: number) => {
    const customer = CUSTOMERS[i % CUSTOMERS.length]!;
    const failFirst = i % 7 === 3 ? 2 : 0;
    const ids: string[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        const order = await trx
          .withSchema(schema)
          .insertInto('demo_orders')
          .values({ customer, amount_cents: 1000 + ((i * 137) % 9000) })
          .returning('id')
          .executeTakeFirstOrThrow();
        const payload: DemoPayload = { orderId: String(order.id), customer, failFirst };
        ids.push(
          await outbox.add(trx, {
            type: 'order.created',
            payload,
            destination: i % 2 === 0 ? `webhook:${customer}` : 'console',
            tenantId: customer,
            orderingKey: `order-${order.id}`,
            headers: { [FAIL_FIRST_HEADER]: String(failFirst) },
          }),
        );
        if (i % 5 === 0) {
          ids.push(
            await outbox.addCommand(trx, {
              device: DEMO_DEVICES[i % DEMO_DEVICES.length]!,
              action: 'pppoe.create',
              params: {
                name: `${customer}-${order.id}`,
                password: `pw-${order.id}`,
                profile: '50M',
                service: 'pppoe',
              },
              tenantId: customer,
            }),
          );
        }
        if (i % 50 === 25) {
          // The receiver answers 422: a permanent failure, dead at once with the status in last_error.
          const reject = 'the legacy CRM no longer accepts orders';
          ids.push(
            await outbox.add(trx, {
              type: 'order.synced',
              payload: { ...payload, failFirst: 0, reject },
              destination: 'webhook:legacy-crm',
              tenantId: customer,
            }),
          );
        }
        if (i % 60 === 11) {
          // Fails more often than its budget allows: dead after its 2 attempts.
          ids.push(
            await outbox.add(trx, {
              type: 'order.invoiced',
              payload,
              destination: 'console',
              tenantId: customer,
              maxAttempts: 2,
              headers: { [FAIL_FIRST_HEADER]: '5' },
            }),
          );
        }
        if (i % 10 === 9) throw new PaymentDeclined('payment declined');
      });
      tally.committedOrders++;
      tally.committedIds.push(...ids);
      options.afterCommit();
    } catch (error) {
      if (!(error instanceof PaymentDeclined)) throw error;
      tally.rolledBackIds.push(...ids);
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < options.orders) await writeOrder(next++);
    }),
  );
}
