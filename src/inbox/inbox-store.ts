import type { RunSql } from '../core/foundation/queryable.js';

/**
 * Every statement the inbox runs, with the index each one uses and the race it guards
 * against. Takes a schema already validated and quoted by `quoteSchema`.
 *
 * @example
 * const store = new InboxStore(quoteSchema('billing'));
 * if (await store.record(sqlRunner(trx), { id, type: null, orderingKey: null, receivedAt: new Date() })) { ... }
 */
export class InboxStore {
  readonly #s: string;

  constructor(quotedSchema: string) {
    this.#s = quotedSchema;
  }

  /**
   * Records a message id; true when it is new. One statement, no read-then-write: of
   * concurrent deliveries of one id, the primary key lets exactly one insert through and the
   * others wait on its row lock until that transaction ends, then see the conflict (or, if it
   * rolled back, insert themselves). Uses `inbox_messages_pkey`.
   */
  async record(
    run: RunSql,
    row: { id: string; type: string | null; orderingKey: string | null; receivedAt: Date },
  ): Promise<boolean> {
    const inserted = await run(
      `insert into ${this.#s}.inbox_messages (message_id, type, ordering_key, received_at)
       values ($1, $2, $3, $4) on conflict (message_id) do nothing returning 1`,
      [row.id, row.type, row.orderingKey, row.receivedAt],
    );
    return inserted.length === 1;
  }

  /**
   * Locks the key's position row (creating it at 0) and returns the last applied sequence.
   * An upsert rather than select-for-update, because a missing row cannot be locked: two
   * first messages of a new key would both read "nothing" and both apply. Uses `inbox_keys_pkey`.
   */
  async lockKey(run: RunSql, key: string, now: Date): Promise<bigint> {
    const [row] = await run<{ last_sequence: string }>(
      `insert into ${this.#s}.inbox_keys (ordering_key, last_sequence, updated_at) values ($1, 0, $2)
       on conflict (ordering_key) do update set ordering_key = excluded.ordering_key
       returning last_sequence::text`,
      [key, now],
    );
    return BigInt(row!.last_sequence);
  }

  /** Moves the key's position to `sequence` (its row is locked by `lockKey`). Uses `inbox_keys_pkey`. */
  async advanceKey(run: RunSql, key: string, sequence: bigint, now: Date): Promise<void> {
    await run(
      `update ${this.#s}.inbox_keys set last_sequence = $2, updated_at = $3 where ordering_key = $1`,
      [key, sequence.toString(), now],
    );
  }

  /**
   * Deletes up to `limit` ids received before `cutoff`, oldest first. The inner select walks
   * `inbox_messages_received_at_idx` from its start and stops after `limit` rows; the delete
   * then finds them by their tuple ids (a Tid Scan). `message_id in (...)` would let the
   * planner hash-join against a sequential scan of the whole table once it looks small.
   * Rows locked by a receiving transaction are skipped, so pruning never waits on a delivery;
   * the lock also keeps each tuple id valid until the delete.
   */
  async pruneBatch(run: RunSql, cutoff: Date, limit: number): Promise<number> {
    const rows = await run(
      `delete from ${this.#s}.inbox_messages where ctid = any(array(
         select ctid from ${this.#s}.inbox_messages
          where received_at < $1 order by received_at limit $2 for update skip locked))
       returning 1`,
      [cutoff, limit],
    );
    return rows.length;
  }

  /**
   * Ids currently held and the oldest one's time. `count(*)` reads the whole primary key:
   * fine for a stats call, never run it per message.
   */
  async count(run: RunSql): Promise<{ stored: number; oldestReceivedAt: Date | null }> {
    const [row] = await run<{ stored: number; oldest: Date | null }>(
      `select count(*)::int as stored, min(received_at) as oldest from ${this.#s}.inbox_messages`,
    );
    return { stored: row?.stored ?? 0, oldestReceivedAt: row?.oldest ?? null };
  }
}
