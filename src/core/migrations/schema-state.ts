import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../foundation/schema-name.js';
import { LATEST_MIGRATION_VERSION } from './migration-list.js';

/**
 * Where a schema stands for the relays: its migration `version`, and `relaysFrom`, the oldest
 * build (named by the newest migration it knows) whose relays may still claim from it. A
 * migration whose `previousRelays.after` is false raises `relaysFrom` to its own version; one
 * that older relays can live with (a new table, a nullable column) carries the previous value
 * on, so relays of the previous release keep working through a rolling deploy.
 */
export interface SchemaState {
  /** 0 when outbox-relay was never migrated there. */
  readonly version: number;
  readonly relaysFrom: number;
}

/** How a schema fits a build: what its relays, `/readyz` and `start` make of it. */
export type SchemaFit = 'current' | 'too_old' | 'newer_compatible' | 'too_new';

/**
 * Reads the schema's version and `relaysFrom` (two index lookups on the tiny migrations table).
 *
 * @example
 * const state = await readSchemaState(db, { schema: 'outbox' }); // { version: 8, relaysFrom: 7 }
 */
export async function readSchemaState(
  db: Queryable,
  options: { schema?: string } = {},
): Promise<SchemaState> {
  const s = quoteSchema(options.schema ?? DEFAULT_SCHEMA);
  const run = sqlRunner(db);
  const [exists] = await run<{ t: string | null }>(`select to_regclass($1) as t`, [`${s}.migrations`]);
  if (!exists?.t) return { version: 0, relaysFrom: 0 };
  const [row] = await run<{ version: number; relays_from: number }>(
    `select m.version, ${relaysFromSql('m')} as relays_from from ${s}.migrations m order by m.version desc limit 1`,
  );
  return row ? { version: row.version, relaysFrom: row.relays_from } : { version: 0, relaysFrom: 0 };
}

/**
 * The `relays_from` of the row `alias` of `<schema>.migrations`. Rows recorded before the column
 * existed count as not letting older relays in.
 *
 * @example
 * `select ${relaysFromSql('m')} from "outbox".migrations m order by m.version desc limit 1`
 */
export function relaysFromSql(alias: string): string {
  // The column is missing on a schema no migrate of this build has touched yet (a status read or
  // a start on an old schema): to_jsonb of the row reads it when it is there and fails nothing
  // when it is not. One row per statement, so the detour costs nothing measurable.
  return `coalesce((to_jsonb(${alias}) ->> 'relays_from')::int, ${alias}.version)`;
}

/**
 * How a schema fits relays built for `builtFor` (default: this build).
 *
 * @example
 * schemaFit({ version: 8, relaysFrom: 7 }, 7); // 'newer_compatible': keep claiming
 * schemaFit({ version: 8, relaysFrom: 8 }, 7); // 'too_new': stop, the later release must claim
 */
export function schemaFit(state: SchemaState, builtFor: number = LATEST_MIGRATION_VERSION): SchemaFit {
  if (state.version < builtFor) return 'too_old';
  if (state.version === builtFor) return 'current';
  return state.relaysFrom <= builtFor ? 'newer_compatible' : 'too_new';
}
