import type { Kysely } from 'kysely';
import { getMessage, listDead } from '../../core/maintenance/dead-letters.js';
import { getStats } from '../../core/maintenance/outbox-stats.js';
import type { RelayCounters } from '../../core/relay/relay.js';
import type { DemoReceiver } from './demo-receiver.js';
import type { DemoRouter } from './demo-router.js';
import type { WorkloadTally } from './demo-workload.js';

/** The demo's summary; every count except the relay's own is read back through the library. */
export interface DemoSummary {
  schema: string;
  ordersCommitted: number;
  messagesCommitted: number;
  events: number;
  commands: number;
  delivered: number;
  /** Delivered after more than one attempt. */
  deliveredAfterRetry: number;
  /** Failed attempts the relay scheduled for retry. */
  failedAttempts: number;
  dead: number;
  /** Dead rows by `dead_reason` (`permanent`, `max_attempts`, ...), from `listDead`. */
  deadByReason: Record<string, number>;
  /** Dead at once: the publisher said the message can never be delivered (`permanent`). */
  deadPermanent: number;
  /** Dead because every attempt it had failed (`max_attempts`). */
  deadGaveUp: number;
  pendingOrInFlight: number;
  rolledBack: number;
  rolledBackFoundInDatabase: number;
  webhook: {
    received: number;
    rejected: number;
    badSignatures: number;
    /** Requests the receiver failed to handle, with the error. */
    errors: readonly string[];
    deliveredButNotReceived: number;
  };
  routeros: { secretsOnRouter: number };
  relayDelivered: number;
  relayDead: number;
  durationMs: number;
  ok: boolean;
}

/** Reads at most this many messages at once (the pool has 20 connections, the relay uses some). */
const READ_CONCURRENCY = 8;

async function mapLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
    }),
  );
  return results;
}

/**
 * Reads the outcome back from the database through the library (`getStats({ exact: true })`,
 * `getMessage`, `listDead`) and checks that every count agrees with what the demo wrote.
 *
 * @example
 * const summary = await readSummary({ db, schema, tally, receiver, router, counters: relay.counters(), startedAt });
 */
export async function readSummary(input: {
  db: Kysely<any>;
  schema: string;
  tally: WorkloadTally;
  receiver: DemoReceiver;
  router: DemoRouter;
  counters: RelayCounters;
  startedAt: number;
}): Promise<DemoSummary> {
  const { db, schema, tally, receiver, counters } = input;
  const stats = await getStats(db, { schema, exact: true });
  const read = (id: string) => getMessage(db, id, { schema });
  const committed = (await mapLimited(tally.committedIds, read)).filter((m) => m !== undefined);
  const rolledBackFound = (await mapLimited(tally.rolledBackIds, read)).filter((m) => m !== undefined);
  const deadRows = await listDead(db, {}, { schema, limit: Math.max(1, stats.byStatus.dead) });
  const deadByReason: Record<string, number> = {};
  for (const m of deadRows) {
    const reason = m.deadReason ?? 'unknown';
    deadByReason[reason] = (deadByReason[reason] ?? 0) + 1;
  }
  const delivered = committed.filter((m) => m.status === 'delivered');
  const orders = await db
    .withSchema(schema)
    .selectFrom('demo_orders')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const summary: DemoSummary = {
    schema,
    ordersCommitted: Number(orders.n),
    messagesCommitted: Object.values(stats.byStatus).reduce((a, b) => a + b, 0),
    events: committed.filter((m) => m.kind === 'event').length,
    commands: committed.filter((m) => m.kind === 'command').length,
    delivered: stats.byStatus.delivered,
    deliveredAfterRetry: delivered.filter((m) => m.attempts > 1).length,
    failedAttempts: counters.retried,
    dead: stats.byStatus.dead,
    deadByReason,
    deadPermanent: deadByReason.permanent ?? 0,
    deadGaveUp: deadByReason.max_attempts ?? 0,
    pendingOrInFlight: stats.byStatus.pending + stats.byStatus.in_flight,
    rolledBack: tally.rolledBackIds.length,
    rolledBackFoundInDatabase: rolledBackFound.length,
    webhook: {
      received: receiver.received.size,
      rejected: receiver.rejected(),
      badSignatures: receiver.badSignatures(),
      errors: receiver.errors,
      deliveredButNotReceived: delivered.filter(
        (m) => m.destination.startsWith('webhook') && !receiver.received.has(m.messageId),
      ).length,
    },
    routeros: { secretsOnRouter: input.router.secrets() },
    relayDelivered: counters.delivered,
    relayDead: counters.dead,
    durationMs: Date.now() - input.startedAt,
    ok: false,
  };
  summary.ok =
    summary.ordersCommitted === tally.committedOrders &&
    summary.messagesCommitted === tally.committedIds.length &&
    committed.length === tally.committedIds.length &&
    summary.delivered + summary.dead === summary.messagesCommitted &&
    summary.pendingOrInFlight === 0 &&
    summary.rolledBackFoundInDatabase === 0 &&
    summary.relayDelivered === summary.delivered &&
    summary.webhook.badSignatures === 0 &&
    summary.webhook.errors.length === 0 &&
    summary.webhook.deliveredButNotReceived === 0 &&
    summary.routeros.secretsOnRouter === summary.commands;
  return summary;
}

/**
 * The summary as the lines the demo prints.
 *
 * @example
 * for (const line of summaryLines(summary)) console.log(line);
 */
export function summaryLines(summary: DemoSummary): string[] {
  return [
    '',
    `Summary (read back from the database, schema "${summary.schema}", ${(summary.durationMs / 1000).toFixed(1)} s):`,
    `  orders committed            ${summary.ordersCommitted}`,
    `  messages committed          ${summary.messagesCommitted} (${summary.events} events, ${summary.commands} commands)`,
    `  delivered                   ${summary.delivered}`,
    `    of which after retries    ${summary.deliveredAfterRetry} (${summary.failedAttempts} failed attempts retried with backoff)`,
    `  dead                        ${summary.dead} (${deadReasonsText(summary.deadByReason)})`,
    `  rolled back, never sent     ${summary.rolledBack} messages; found in the outbox: ${summary.rolledBackFoundInDatabase}`,
    `  webhook receiver            ${summary.webhook.received} verified deliveries, ${summary.webhook.rejected} refused, ${summary.webhook.badSignatures} bad signatures` +
      (summary.webhook.errors.length > 0 ? `, failed to handle: ${summary.webhook.errors.join('; ')}` : ''),
    `  fake router                 ${summary.routeros.secretsOnRouter} PPPoE secrets created by ${summary.commands} commands`,
    summary.ok
      ? 'All counts agree: nothing lost, nothing rolled back was sent.'
      : 'MISMATCH: the counts above do not agree.',
    `Inspect the dead letters with: outbox-relay dead list (schema ${summary.schema})`,
  ];
}

/** How the summary words each `dead_reason`. */
const DEAD_REASON_WORDS: Record<string, string> = {
  permanent: 'refused for good',
  max_attempts: 'gave up after their attempts',
};

function deadReasonsText(byReason: Record<string, number>): string {
  const parts = Object.entries(byReason).map(
    ([reason, n]) => `${n} ${DEAD_REASON_WORDS[reason] ?? reason} (${reason})`,
  );
  return parts.length > 0 ? parts.join(', ') : 'none';
}
