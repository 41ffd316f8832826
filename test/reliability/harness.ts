/**
 * The reliability suite's bookkeeping, shared by the tests (small numbers) and the soak
 * scripts in test/soak (big numbers): producers that write, roll back and hold transactions
 * open while remembering exactly what committed; a record of what reached the "receiver";
 * and one verdict that checks every promise of design.md section 8 against the table.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { JsonValue } from '../../src/core/foundation/json-value.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { waitFor } from '../support/recording-publisher.js';

/** A migrated outbox schema to run a scenario in (a TestDatabase fits). */
export interface ScenarioDatabase {
  readonly url: string;
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly db: Kysely<any>;
}

interface Written {
  readonly key: string | null;
  /** Position within its key, in the order the key's only producer wrote it. */
  readonly seq: number;
}

/** What the producers wrote, and whether it committed. */
export class Ledger {
  readonly committed = new Map<string, Written>();
  readonly rolledBack = new Set<string>();
  /** Transactions whose COMMIT got no answer (server restarted): the table decides later. */
  readonly uncertain = new Map<string, Written>();
  private readonly seqs = new Map<string, number>();

  nextSeq(key: string | null): number {
    const k = key ?? '';
    const n = (this.seqs.get(k) ?? 0) + 1;
    this.seqs.set(k, n);
    return n;
  }

  /** Moves every uncertain id to committed or rolled back by looking for its row. */
  async resolveUncertain(t: ScenarioDatabase): Promise<void> {
    if (this.uncertain.size === 0) return;
    const ids = [...this.uncertain.keys()];
    const { rows } = await t.pool.query<{ message_id: string }>(
      `select message_id::text from "${t.schema}".all_messages where message_id = any($1::uuid[])`,
      [ids],
    );
    const present = new Set(rows.map((r) => r.message_id));
    for (const [id, w] of this.uncertain) {
      if (present.has(id)) this.committed.set(id, w);
      else this.rolledBack.add(id);
    }
    this.uncertain.clear();
  }
}

/** What reached the receiver, in arrival order (duplicates included). */
export class Deliveries {
  readonly order: string[] = [];
  readonly counts = new Map<string, number>();
  record(messageId: string): void {
    this.order.push(messageId);
    this.counts.set(messageId, (this.counts.get(messageId) ?? 0) + 1);
  }
}

/** Options of `runProducers`. */
export interface ProducerOptions {
  readonly producers: number;
  /** Messages each producer writes (committed or not). */
  readonly messagesPerProducer: number;
  /** Messages per transaction. */
  readonly txSize?: number;
  /** Ordering keys per producer; each key belongs to one producer, so commit order = write order. */
  readonly keysPerProducer?: number;
  /** Share of transactions that insert and then roll back. */
  readonly rollbackRatio?: number;
  /** Share of transactions that stay open until `holdUntil` resolves (a low id committing late). */
  readonly longTxRatio?: number;
  readonly holdUntil?: () => Promise<void>;
  readonly destination?: (producer: number, n: number) => string;
  readonly payload?: (producer: number, n: number) => JsonValue;
  /** Errors of the database (server restarting) are counted and the producer carries on. */
  readonly onError?: (error: unknown) => void;
  /** Deterministic randomness: mulberry32 seeded per run. */
  readonly seed?: number;
}

function ignore(): void {}

/** A small seeded generator, so a failing run can be replayed with the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs producers concurrently until each wrote its quota: real transactions on real
 * connections through `outbox.addMany`, some rolled back, some held open. Resolves with the
 * number of transactions that failed (the server went away) — those are retried as new
 * transactions, their ids left for `Ledger.resolveUncertain`.
 */
export async function runProducers(
  t: ScenarioDatabase,
  ledger: Ledger,
  options: ProducerOptions,
): Promise<{ failedTransactions: number; heldTransactions: number }> {
  const outbox = createOutbox({ schema: t.schema });
  const random = seededRandom(options.seed ?? 7);
  const txSize = options.txSize ?? 5;
  const keys = options.keysPerProducer ?? 3;
  let failedTransactions = 0;
  let heldTransactions = 0;
  const one = async (p: number) => {
    let written = 0;
    // Bounded: each transaction writes at least one message or counts a failure; failures are capped.
    for (let attempts = 0; written < options.messagesPerProducer && attempts < 100_000; attempts++) {
      const n = Math.min(txSize, options.messagesPerProducer - written);
      const batch = Array.from({ length: n }, (_, i) => {
        const key = random() < 0.2 ? null : `p${p}-k${Math.floor(random() * keys)}`;
        return {
          messageId: randomUUID(),
          key,
          seq: ledger.nextSeq(key),
          destination: options.destination?.(p, written + i) ?? 'default',
          payload: options.payload?.(p, written + i) ?? { p, n: written + i },
        };
      });
      const rollback = random() < (options.rollbackRatio ?? 0);
      const hold = !rollback && options.holdUntil !== undefined && random() < (options.longTxRatio ?? 0);
      let client: pg.PoolClient | undefined;
      let commitSent = false;
      try {
        client = await t.pool.connect();
        // A checked-out client whose server goes away emits 'error' between queries; the
        // next query rejects anyway, which is where this producer handles it. Removed on
        // release, or a pooled client would collect one listener per transaction.
        client.on('error', ignore);
        await client.query('begin');
        await outbox.addMany(
          client,
          batch.map((m) => ({
            type: 'reliability',
            messageId: m.messageId,
            destination: m.destination,
            orderingKey: m.key,
            payload: m.payload,
          })),
        );
        if (hold) {
          heldTransactions++;
          await options.holdUntil!();
        }
        if (rollback) {
          await client.query('rollback');
          for (const m of batch) ledger.rolledBack.add(m.messageId);
        } else {
          commitSent = true;
          await client.query('commit');
          for (const m of batch) ledger.committed.set(m.messageId, { key: m.key, seq: m.seq });
        }
        client.removeListener('error', ignore);
        client.release();
        written += n;
      } catch (error) {
        failedTransactions++;
        options.onError?.(error);
        client?.removeListener('error', ignore);
        client?.release(error instanceof Error ? error : new Error(String(error)));
        for (const m of batch) {
          if (commitSent) ledger.uncertain.set(m.messageId, { key: m.key, seq: m.seq });
          else ledger.rolledBack.add(m.messageId);
        }
        // Give the server a moment to come back; a bounded pause, not a wait for async work.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: options.producers }, (_, p) => one(p)));
  return { failedTransactions, heldTransactions };
}

/** Counts by status of the scenario's messages table. */
export async function statusCounts(
  t: ScenarioDatabase,
): Promise<Record<'pending' | 'in_flight' | 'delivered' | 'dead', number>> {
  const { rows } = await t.pool.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from "${t.schema}".all_messages group by status`,
  );
  const out = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
  for (const r of rows) out[r.status as keyof typeof out] = r.n;
  return out;
}

/**
 * Waits until no message is pending or in flight (and `alsoDone()` holds). On timeout the
 * error says what is left in the table, plus `context()`, so a stuck run explains itself.
 */
export async function waitForDrained(
  t: ScenarioDatabase,
  what: string,
  timeoutMs: number,
  options: { alsoDone?: () => boolean; context?: () => string } = {},
): Promise<void> {
  await waitFor(
    async () => {
      const c = await statusCounts(t);
      return c.pending + c.in_flight === 0 && (options.alsoDone?.() ?? true);
    },
    what,
    timeoutMs,
  ).catch(async (error: unknown) => {
    const { rows } = await t.pool.query(
      `select status, locked_by, attempts, available_at < now() as due, count(*)::int as n
         from "${t.schema}".messages where status not in ('delivered', 'dead')
        group by 1, 2, 3, 4 order by n desc limit 10`,
    );
    throw new Error(
      `${String(error)}; left: ${JSON.stringify(rows)}` + (options.context ? `; ${options.context()}` : ''),
    );
  });
}

/** The closing figures of one scenario run. */
export interface Figures {
  readonly scenario: string;
  readonly written: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly phantom: number;
  readonly ms: number;
}

/** The verdict: figures, and every broken promise in words (empty when all held). */
export interface Verdict {
  readonly figures: Figures;
  readonly problems: string[];
}

/**
 * Checks the promises against the receiver's record and the table: every committed message
 * delivered at least once (or dead where `expectDead` says so), nothing rolled back or
 * unknown delivered, nothing left in flight or pending, per-key order kept (first deliveries
 * follow each key's write order), and dead rows only where expected.
 */
export async function verify(
  t: ScenarioDatabase,
  ledger: Ledger,
  deliveries: Deliveries,
  options: { scenario: string; startedAt: number; expectDead?: (messageId: string) => boolean },
): Promise<Verdict> {
  await ledger.resolveUncertain(t);
  const problems: string[] = [];
  const expectDead = options.expectDead ?? (() => false);
  const counts = await statusCounts(t);
  if (counts.in_flight > 0) problems.push(`${counts.in_flight} rows left in_flight`);
  if (counts.pending > 0) problems.push(`${counts.pending} rows left pending`);
  const { rows: deadRows } = await t.pool.query<{ message_id: string; last_error: string | null }>(
    `select message_id::text, last_error from "${t.schema}".messages where status = 'dead'`,
  );
  const dead = new Set(deadRows.map((r) => r.message_id));
  for (const r of deadRows) {
    if (!expectDead(r.message_id)) problems.push(`unexpected dead row ${r.message_id}: ${r.last_error}`);
    else if (!r.last_error) problems.push(`dead row ${r.message_id} has no reason`);
  }
  const lost = [...ledger.committed.keys()].filter(
    (id) => !deliveries.counts.has(id) && !(dead.has(id) && expectDead(id)),
  );
  if (lost.length > 0)
    problems.push(`${lost.length} committed messages never delivered: ${lost.slice(0, 5)}`);
  const phantom = [...deliveries.counts.keys()].filter((id) => !ledger.committed.has(id));
  const rolledBackDelivered = phantom.filter((id) => ledger.rolledBack.has(id));
  if (phantom.length > 0) {
    problems.push(
      `${phantom.length} delivered messages never committed (${rolledBackDelivered.length} rolled back): ${phantom.slice(0, 5)}`,
    );
  }
  const lastSeq = new Map<string, number>();
  const seen = new Set<string>();
  let orderViolations = 0;
  for (const id of deliveries.order) {
    if (seen.has(id)) continue;
    seen.add(id);
    const w = ledger.committed.get(id);
    if (!w || w.key === null) continue;
    const before = lastSeq.get(w.key) ?? 0;
    if (w.seq < before) {
      orderViolations++;
      if (orderViolations <= 5) problems.push(`key ${w.key}: #${w.seq} delivered after #${before}`);
    }
    lastSeq.set(w.key, Math.max(before, w.seq));
  }
  if (orderViolations > 5) problems.push(`${orderViolations} per-key order violations in all`);
  const figures: Figures = {
    scenario: options.scenario,
    written: ledger.committed.size + ledger.rolledBack.size,
    delivered: deliveries.counts.size,
    duplicates: deliveries.order.length - deliveries.counts.size,
    lost: lost.length,
    phantom: phantom.length,
    ms: Date.now() - options.startedAt,
  };
  return { figures, problems };
}

/** The report table's header. */
export const FIGURES_HEADER = '| scenario | written | delivered | duplicates | lost | phantom | time |';

/** One line of the report table. */
export function figuresRow(f: Figures): string {
  return `| ${f.scenario} | ${f.written} | ${f.delivered} | ${f.duplicates} | ${f.lost} | ${f.phantom} | ${(f.ms / 1000).toFixed(1)} s |`;
}

/**
 * Prints a scenario's figures and appends them to the report file
 * (`OUTBOX_RELIABILITY_REPORT`, default `<tmp>/outbox-reliability-report.md`).
 */
export function report(f: Figures, extra = ''): void {
  const line = `${figuresRow(f)}${extra ? ` ${extra}` : ''}`;
  console.log(line);
  const file =
    process.env.OUTBOX_RELIABILITY_REPORT ?? path.join(os.tmpdir(), 'outbox-reliability-report.md');
  fs.appendFileSync(file, `${line}\n`);
}
