import { randomBytes } from 'node:crypto';
import { createOutbox } from '../../src/core/producer/outbox.js';
import type { TestDatabase } from '../support/database.js';
import { type CliProcess, spawnCli } from './cli-process.js';

/** The admin token of the relays `webhookFleet` starts. */
export const FLEET_ADMIN_TOKEN = 'webhook-fleet-e2e-token-0123456789';

/**
 * Relay processes of the real binary sending destination `webhook` to `receiverUrl`, on one
 * fresh schema, each with its HTTP endpoint and FLEET_ADMIN_TOKEN; and the producer side.
 *
 * @example
 * const fleet = webhookFleet(await fresh(), receiver.url); const { base } = await fleet.start();
 */
export function webhookFleet(db: { t: TestDatabase; env: Record<string, string> }, receiverUrl: string) {
  const { t } = db;
  const env = {
    ...db.env,
    OUTBOX_PUBLISHER_TYPE: 'webhook',
    OUTBOX_WEBHOOK_URL: `${receiverUrl}/hooks`,
    OUTBOX_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
    OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
  };
  const processes: CliProcess[] = [];
  return {
    env,
    processes,
    /** Starts one more relay process; resolves with it and its base URL once it listens. */
    async start(): Promise<{ process: CliProcess; base: string }> {
      const process = spawnCli(['start'], {
        ...env,
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        ADMIN_TOKEN: FLEET_ADMIN_TOKEN,
        POLL_INTERVAL_MS: '50',
        ENABLE_JOBS: 'false',
        LOG_LEVEL: 'info',
      });
      processes.push(process);
      const { port } = await process.waitForLog(
        (l) => l.msg === 'HTTP endpoint listening',
        'the HTTP endpoint',
      );
      return { process, base: `http://127.0.0.1:${port}` };
    },
    async stop(): Promise<void> {
      for (const p of processes.splice(0)) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    },
    /** Adds `n` messages for destination `webhook`. */
    async add(n: number): Promise<void> {
      await createOutbox({ schema: t.schema }).addMany(
        t.db,
        Array.from({ length: n }, (_, i) => ({ type: 'e2e.fleet', destination: 'webhook', payload: { i } })),
      );
    },
    async delivered(): Promise<number> {
      const { rows } = await t.pool.query<{ n: number }>(
        `select count(*)::int as n from "${t.schema}".all_messages where status = 'delivered'`,
      );
      return rows[0]!.n;
    },
  };
}
