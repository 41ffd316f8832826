import { OutboxError } from '../foundation/errors.js';
import type { Logger } from '../foundation/logger.js';
import type { Queryable } from '../foundation/queryable.js';
import { LATEST_MIGRATION_VERSION, schemaVersion } from '../migrations/index.js';

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
    const misfit = this.verdict(await schemaVersion(this.db, { schema: this.schema }));
    if (misfit) this.logger.error({ code: misfit.code, schema: this.schema }, misfit.message);
    return misfit;
  }

  /** The error for a schema at `version`, or undefined when this build may claim from it. */
  verdict(version: number): OutboxError | undefined {
    const s = `schema "${this.schema}" is at migration ${version}`;
    if (version < this.builtFor) {
      return new OutboxError(
        'SCHEMA_TOO_OLD',
        `${s} but this relay needs ${this.builtFor}: run \`outbox-relay migrate\` (or migrate()) first`,
      );
    }
    if (version > this.builtFor) {
      return new OutboxError(
        'SCHEMA_TOO_NEW',
        `${s}, newer than this relay knows (${this.builtFor}): it stopped claiming so as not to break ` +
          `the newer release's rules; replace it with the release that ran the migration (see README "Upgrading")`,
      );
    }
    return undefined;
  }
}
