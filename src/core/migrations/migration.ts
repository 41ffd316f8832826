/**
 * One forward-only schema change. `sql` receives the already-quoted schema name
 * (e.g. `"outbox"`) and returns the statements to run; they run in one transaction.
 * `online` steps run after that transaction commits, each on its own, so index builds
 * (`create index concurrently`) and batched data moves never block producers or relays.
 *
 * @example
 * const m: Migration = {
 *   version: 9, name: 'add-foo', sql: (s) => `alter table ${s}.messages add column foo text`,
 *   previousRelays: { during: true, after: true, note: 'a new nullable column; older relays never read it' },
 * };
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /**
   * Whether relays of the release before this migration may run during and after it. The
   * the "Upgrading" guide's table (docs/upgrading.md) is checked against these (test/unit/upgrading-readme.test.ts).
   */
  readonly previousRelays: PreviousRelays;
  sql(quotedSchema: string): string;
  /**
   * Steps outside the transaction, in order; each must be idempotent (the version is recorded
   * only after the last one, so an interrupted run repeats them). `concurrently` is
   * `'concurrently'`, or `''` when they run inside a transaction (a fresh schema, or a caller's
   * transaction), where CONCURRENTLY is not allowed and nothing else can be waiting anyway.
   */
  online?(quotedSchema: string, concurrently: 'concurrently' | ''): readonly OnlineStep[];
}

/** One statement of a migration's online part. */
export interface OnlineStep {
  readonly sql: string;
  /**
   * A batched data move of at most this many rows per statement, each batch its own short
   * transaction, the statement returning one row per row it moved: it runs again while a batch
   * comes back full. Not until a batch moves nothing: relays of the release before keep
   * finishing rows in place while it runs, and chasing them could go on for as long as they do.
   */
  readonly batchRows?: number;
  /**
   * It takes a table lock that blocks writers (ACCESS EXCLUSIVE for a plain DROP INDEX or an
   * ALTER TABLE, SHARE for a plain CREATE INDEX on a small table): it runs in a short
   * transaction of its own that waits at most `lockTimeoutMs` for the lock and is retried, so
   * producers never queue behind it for long. Otherwise a step runs in autocommit.
   */
  readonly exclusive?: boolean;
}

/**
 * What a migration means for the relays of the previous release (a rolling deploy runs
 * `migrate`, then replaces the relays). Relays built since the schema fence (after migration 7)
 * act on `after`: `migrate` records it as the versions table's `relays_from`, and such a relay
 * keeps claiming from a newer schema only while every migration it does not know said `after:
 * true`; otherwise it stops, exits and is replaced, so it never runs a claim whose rules changed.
 *
 * @example
 * const v: PreviousRelays = { during: true, after: false, note: 'stop them before starting new ones' };
 */
export interface PreviousRelays {
  /**
   * They keep working while `migrate` applies it (slower while it moves data: migration 7 left
   * them 0.6-0.7x of their rate on a 2-core box, their backlog not growing, docs/upgrading.md).
   */
  readonly during: boolean;
  /**
   * They may keep running side by side with the new release once it is applied (they ignore
   * what it adds and break none of its rules). Say false whenever in doubt.
   */
  readonly after: boolean;
  /** One line for the table of docs/upgrading.md: why, and what to do. */
  readonly note: string;
}
