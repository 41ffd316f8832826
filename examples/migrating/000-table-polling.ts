/**
 * Migrating from a worker that polls a `mikrotik_jobs` table (seed 000): the API used to insert
 * a PENDING row that a worker picked up every 5 s. It now writes the RouterOS command into the
 * outbox in the same transaction as the subscriber change; `outbox-relay start` with
 * `OUTBOX_PUBLISHER_TYPE=routeros` applies it (one command at a time per router, in order,
 * retried, dead-lettered after MAX_RETRIES). Guide: docs/migrating/000-table-polling.md.
 *
 * Run: DATABASE_URL=postgres://... npx tsx examples/migrating/000-table-polling.ts
 */
import pg from 'pg';
import { createOutbox } from '../../src/index.js';

/** The old job actions and the RouterOS actions they become. */
const ACTIONS = {
  CREATE: 'pppoe.create',
  UPDATE: 'pppoe.update',
  SUSPEND: 'pppoe.suspend',
  ACTIVATE: 'pppoe.activate',
  DELETE: 'pppoe.delete',
} as const;

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const outbox = createOutbox({ schema: 'outbox' });

/** Was: insert into mikrotik_jobs (wisp_id, mikrotik_id, action, payload, status) values (..., 'PENDING'). */
export async function queuePppoeChange(input: {
  wispId: string;
  router: string;
  action: keyof typeof ACTIONS;
  username: string;
  password?: string;
  plan?: string;
}): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    // ... your own writes (the subscriber row) go here, in the same transaction ...
    const id = await outbox.addCommand(client, {
      device: input.router, // destination routeros:<router>, ordered per router
      action: ACTIONS[input.action],
      params: {
        name: input.username,
        ...(input.password ? { password: input.password } : {}),
        ...(input.plan ? { profile: input.plan } : {}),
      },
      tenantId: input.wispId, // was wisp_id
    });
    await client.query('commit');
    return id;
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(
    await queuePppoeChange({
      wispId: 'wisp-xyz',
      router: 'tower-3',
      action: 'CREATE',
      username: 'alice',
      password: 'pw',
      plan: '25M',
    }),
  );
  await pool.end();
}
