/**
 * One forward-only schema change. `sql` receives the already-quoted schema name
 * (e.g. `"outbox"`) and returns the statements to run; they run in one transaction.
 * `online` steps run after that transaction commits, each on its own, so index builds
 * (`create index concurrently`) and batched data moves never block producers or relays.
 *
 * @example
 * const m: Migration = { version: 9, name: 'add-foo', sql: (s) => `alter table ${s}.messages add column foo text` };
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
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
   * Run again until it returns no row (a batched data move, each batch its own short
   * transaction): such a statement returns one row per row it moved.
   */
  readonly repeat?: boolean;
}
