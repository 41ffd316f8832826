/**
 * One forward-only schema change. `sql` receives the already-quoted schema name
 * (e.g. `"outbox"`) and returns the statements to run; they run in one transaction.
 *
 * @example
 * const m: Migration = { version: 9, name: 'add-foo', sql: (s) => `alter table ${s}.messages add column foo text` };
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  sql(quotedSchema: string): string;
}
