import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
import { deleteOlderBatch, type OlderBatchArgs } from './delete-older-batch.js';

/**
 * What came of one attempt, as the attempt log records it: `delivered`; `transient` (retried,
 * unless its retries ran out) or `permanent` (dead now); `lease_lost` (it failed, but another
 * relay held the row by the time its outcome was written, so it did not count); `replayed` (an
 * operator sent a dead message again: not an attempt, a line of the message's story).
 */
export type AttemptOutcome = 'delivered' | 'transient' | 'permanent' | 'lease_lost' | 'replayed';

/** Every outcome, for checks and help texts. */
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = [
  'delivered',
  'transient',
  'permanent',
  'lease_lost',
  'replayed',
];

/** Longest `detail` (response body or error) kept per attempt, in UTF-8 bytes. */
export const MAX_ATTEMPT_DETAIL_BYTES = 1024;

/** What the relay knows of an attempt beyond the message's own columns, for its log row. */
export interface AttemptRecord {
  outcome: 'delivered' | 'transient' | 'permanent';
  /** How long ago the attempt started when the statement is sent (the relay's monotonic clock). */
  agoMs: number;
  durationMs: number;
  /** The receiver's HTTP status, when it answered one. */
  statusCode: number | null;
  /** The most specific error code the failure carried (`ECONNREFUSED`, `PUBLISH_PERMANENT`). */
  errorCode: string | null;
  /** The first MAX_ATTEMPT_DETAIL_BYTES of the response body or error. */
  detail: string | null;
}

/** One row of the attempt log. */
export interface AttemptRow {
  /** The message's row id (`messages.id`, kept by the archive). */
  messageRowId: string;
  messageId: string;
  destination: string;
  /** The attempt number (1 for the first); 0 for a replay. */
  attempt: number;
  outcome: AttemptOutcome;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorCode: string | null;
  detail: string | null;
  /** The relay that made the attempt; null for a replay. */
  workerId: string | null;
  /** When the outcome was written (database time). */
  at: Date;
}

/** The log's columns in the order every insert into it lists them. */
export const ATTEMPT_INSERT_COLUMNS =
  'message_row_id, message_id, destination, attempt, outcome, started_at, duration_ms, status_code, error_code, detail, worker_id, at';

const SELECT_COLUMNS = `message_row_id::text as "messageRowId", message_id as "messageId", destination, attempt,
       outcome, started_at as "startedAt", duration_ms as "durationMs", status_code as "statusCode",
       error_code as "errorCode", detail, worker_id as "workerId", at`;

/** Which attempts to list: one message's (oldest first), one destination's or all (newest first). */
export interface AttemptQuery {
  messageId?: string;
  destination?: string;
  /** Only attempts written at or after this time. */
  since?: Date;
  limit: number;
}

/**
 * The attempt log's reads and its retention. Its rows are written by the statements that
 * record outcomes (hot-path-sql.ts: the failed and delivered write-backs; dead-letter-store.ts:
 * replay), never by a statement of their own.
 *
 * @example
 * const attempts = new AttemptStore('outbox');
 * const rows = await attempts.list(run, { destination: 'webhook', limit: 20 });
 */
export class AttemptStore {
  private readonly t: string;

  constructor(schema: string) {
    this.t = `${quoteSchema(schema)}.attempts`;
  }

  /**
   * By message: attempts_message_idx (message_id, at), in order. By destination:
   * attempts_destination_idx (destination, at) walked backwards from the newest. Neither:
   * attempts_at_idx backwards. `since` bounds the same range, so `limit` rows are read at most.
   */
  async list(run: RunSql, q: AttemptQuery): Promise<AttemptRow[]> {
    const values: unknown[] = [q.since ?? null];
    const clauses = [`at >= coalesce($1::timestamptz, '-infinity')`];
    if (q.messageId !== undefined) {
      values.push(q.messageId);
      clauses.push(`message_id = $${values.length}::uuid`);
    }
    if (q.destination !== undefined) {
      values.push(q.destination);
      clauses.push(`destination = $${values.length}`);
    }
    values.push(q.limit);
    const order = q.messageId !== undefined ? 'at, attempt' : 'at desc';
    const rows = await run<AttemptRow & { durationMs: number }>(
      `select ${SELECT_COLUMNS} from ${this.t} where ${clauses.join(' and ')} order by ${order} limit $${values.length}`,
      values,
    );
    return rows;
  }

  /**
   * Deletes up to `limit` attempts written more than `olderThanMs` ago, oldest first, through
   * attempts_at_idx; returns how many and the newest `at` deleted, to pass back as `after`
   * (see deleteOlderBatch).
   */
  deleteBatch(run: RunSql, args: OlderBatchArgs): Promise<{ deleted: number; last: Date | null }> {
    return deleteOlderBatch(run, this.t, 'at', args);
  }
}
