/**
 * A WISP back office: activating a subscriber writes the billing change and the router
 * commands in one transaction. The relay (`OUTBOX_PUBLISHER_TYPE=routeros`) applies them to
 * the tower's MikroTik, one command at a time per device and in order; a rolled-back
 * activation never touches the router. Register the tower first:
 *   outbox-relay devices add --name tower-3 --host 10.0.0.3 --username api --password-stdin
 * Run: DATABASE_URL=... npx tsx examples/wisp-pppoe-commands.ts
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createOutbox } from '../src/index.js';

interface Database {
  subscribers: { id: string; username: string; plan: string; active: boolean };
}

const db = new Kysely<Database>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
});
const outbox = createOutbox({ schema: 'outbox' });

/** Activates a subscriber on their tower: PPPoE secret plus a rate-limited queue. */
export async function activateSubscriber(input: {
  id: string;
  username: string;
  password: string;
  plan: '25M' | '50M';
  tower: string;
}) {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('subscribers')
      .set({ active: true, plan: input.plan })
      .where('id', '=', input.id)
      .execute();
    // destination routeros:<tower>, ordering key <tower>: applied in this order on that router.
    await outbox.addCommand(trx, {
      device: input.tower,
      action: 'pppoe.create',
      params: { name: input.username, password: input.password, profile: input.plan, service: 'pppoe' },
      tenantId: 'wisp-1',
    });
    await outbox.addCommand(trx, {
      device: input.tower,
      action: 'queue.set',
      params: {
        name: `sub-${input.id}`,
        target: `${input.username}`,
        'max-limit': input.plan === '50M' ? '50M/50M' : '25M/25M',
      },
      tenantId: 'wisp-1',
    });
  });
}

/** Suspends a subscriber for non-payment: one command, applied after any earlier ones for the tower. */
export async function suspendSubscriber(input: { id: string; username: string; tower: string }) {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('subscribers').set({ active: false }).where('id', '=', input.id).execute();
    await outbox.addCommand(trx, {
      device: input.tower,
      action: 'pppoe.suspend',
      params: { name: input.username },
      tenantId: 'wisp-1',
    });
  });
}
