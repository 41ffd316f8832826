import { OutboxError } from '../foundation/errors.js';
import type { Logger } from '../foundation/logger.js';
import type { Queryable } from '../foundation/queryable.js';
import {
  LATEST_MIGRATION_VERSION,
  readSchemaState,
  type SchemaState,
  schemaFit,
} from '../migrations/index.js';

/**
 * How often a relay whose claims come back short looks at the schema's version. The claim
 * itself already takes nothing from a newer schema (its fence condition); this turns "found
 * nothing because the schema is newer" into a stop within about this long.
 */
export const SCHEMA_CHECK_INTERVAL_MS = 1_000;

/**
 * The relay's side of the upgrade rules: it claims only from the schema version it was built
 * for (`LATEST_MIGRATION_VERSION`). Older: `migrate` has not run yet (`SCHEMA_TOO_OLD`). Newer: a
 * later release migrated it, and this build's claim may not respect that release's rules (a
 * relay before storage v2 sent in-flight rows twice) so it must stop (`SCHEMA_TOO_NEW`).
 *
 * @example
 * const fence = new SchemaFence(db, 'outbox', logger);
 * const error = await fence.check(); // undefined, or the OutboxError to stop with
 */
export class SchemaFence {
  /** performance.now() of the last look; -Infinity forces the next `check()`. */
  private checkedAt = Number.NEGATIVE_INFINITY;
  /** The newer schema version already reported as one this build may keep claiming from. */
  private toldNewer = 0;

  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
    private readonly logger: Logger,
    readonly builtFor: number = LATEST_MIGRATION_VERSION,
  ) {}

  /**
   * Looks at the schema's version unless it did so less than `SCHEMA_CHECK_INTERVAL_MS` ago;
   * returns (and logs, at error) the reason not to claim, if any.
   */
  async check(): Promise<OutboxError | undefined> {
    const now = performance.now();
    if (now - this.checkedAt < SCHEMA_CHECK_INTERVAL_MS) return undefined;
    this.checkedAt = now;
    const state = await readSchemaState(this.db, { schema: this.schema });
    const misfit = this.verdict(state);
    if (misfit) this.logger.error({ code: misfit.code, schema: this.schema }, misfit.message);
    else if (state.version > this.builtFor && state.version !== this.toldNewer) {
      this.toldNewer = state.version;
      this.logger.warn(
        { schema: this.schema, version: state.version, builtFor: this.builtFor },
        `schema is at migration ${state.version}, newer than this relay knows (${this.builtFor}); its migrations ` +
          'let relays of this release keep claiming until they are replaced',
      );
    }
    return misfit;
  }

  /** The error for a schema in `state`, or undefined when this build may claim from it. */
  verdict(state: SchemaState): OutboxError | undefined {
    const { version } = state;
    const s = `schema "${this.schema}" is at migration ${version}`;
    const fit = schemaFit(state, this.builtFor);
    if (fit === 'too_old') {
      return new OutboxError(
        'SCHEMA_TOO_OLD',
        `${s} but this relay needs ${this.builtFor}: run \`outbox-relay migrate\` (or migrate()) first`,
      );
    }
    if (fit === 'too_new') {
      return new OutboxError(
        'SCHEMA_TOO_NEW',
        `${s}, newer than this relay knows (${this.builtFor}), and migration ${state.relaysFrom} changed what relays ` +
          `may do: it stopped claiming so as not to break ` +
          `the newer release's rules; replace it with the release that ran the migration (see README "Upgrading")`,
      );
    }
    return undefined;
  }
}
