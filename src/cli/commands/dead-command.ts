import { type DeadSelector, getMessage, listDead } from '../../core/maintenance/dead-letters.js';
import { runDeadLetterAction } from '../admin/dead-letter-actions.js';
import { isMessageRef, splitMessageRefs } from '../../core/foundation/parse-message-ref.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import {
  type Command,
  type CommandContext,
  EXIT_FAILURE,
  EXIT_OK,
  integerFlag,
  UsageError,
} from '../command.js';
import type { FlagValues } from '../config/load-config.js';
import { formatTable } from './format-table.js';
import { parseSince } from './parse-since.js';

function list(value: FlagValues[string]): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** The dead-letter filter from flags: --id (repeatable or comma list), --type, --destination, --tenant, --since. */
function selector(flags: FlagValues): DeadSelector {
  const ids = list(flags.id);
  const bad = ids.find((id) => !isMessageRef(id));
  if (bad !== undefined) throw new UsageError(`--id must be a row id or a message_id (UUID), got "${bad}"`);
  const { ids: rowIds, messageIds: uuids } = splitMessageRefs(ids);
  return {
    ...(rowIds.length ? { ids: rowIds } : {}),
    ...(uuids.length ? { messageIds: uuids } : {}),
    ...(typeof flags.type === 'string' ? { type: flags.type } : {}),
    ...(typeof flags.destination === 'string' ? { destination: flags.destination } : {}),
    ...(typeof flags.tenant === 'string' ? { tenantId: flags.tenant } : {}),
    ...(typeof flags.since === 'string' ? { since: parseSince(flags.since) } : {}),
    ...(flags.all === true ? { all: true } : {}),
  };
}

function hasFilter(s: DeadSelector): boolean {
  return Object.entries(s).some(([k, v]) => k !== 'all' && v !== undefined);
}

const USAGE = `Usage:
  outbox-relay dead list   [filters] [--limit <n>] [--json]
  outbox-relay dead show   (<id | message_id> | --id <id | message_id>) [--json]
  outbox-relay dead replay (filters | --all)
  outbox-relay dead purge  (filters | --all)

Filters (all given ones must match): --id <id|uuid> (repeatable, or a comma list),
--type <type>, --destination <destination>, --tenant <tenant id>,
--since <ISO date | age like 30m, 6h, 2d> (died at or after).
replay sends rows again with a fresh attempt budget; purge deletes them. Both refuse to act
on every dead row unless --all is given.`;

async function run(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  if (sub === 'list') {
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`, USAGE);
    const limit = integerFlag(ctx.flags, 'limit', { min: 1, max: 100_000, fallback: 100 });
    const { all: _all, ...filter } = selector(ctx.flags);
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const rows = await listDead(database.db, filter, { schema: config.schema, limit });
      if (ctx.flags.json === true) {
        ctx.stdout.write(`${JSON.stringify(rows)}\n`);
        return EXIT_OK;
      }
      if (rows.length === 0) {
        ctx.stdout.write('no dead messages match\n');
        return EXIT_OK;
      }
      ctx.stdout.write(
        formatTable([
          ['id', 'message_id', 'type', 'destination', 'tenant', 'attempts', 'dead_at', 'last_error'],
          ...rows.map((m) => [
            m.id,
            m.messageId,
            m.type,
            m.destination,
            m.tenantId ?? '-',
            String(m.attempts),
            m.deadAt?.toISOString() ?? '-',
            (m.lastError ?? '').slice(0, 100),
          ]),
        ]),
      );
      return EXIT_OK;
    });
  }
  if (sub === 'show') {
    // `dead show 42` or, as the README's filters suggest, `dead show --id 42`: one of them, once.
    const given = [...rest, ...list(ctx.flags.id)];
    const [id, extra] = given;
    if (!id || extra !== undefined) throw new UsageError('dead show takes one id or message_id', USAGE);
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const m = await getMessage(database.db, id, { schema: config.schema });
      if (!m) {
        ctx.stderr.write(`no message with id or message_id "${id}"\n`);
        return EXIT_FAILURE;
      }
      ctx.stdout.write(`${JSON.stringify(m, null, ctx.flags.json === true ? undefined : 2)}\n`);
      return EXIT_OK;
    });
  }
  if (sub === 'replay' || sub === 'purge') {
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`, USAGE);
    const s = selector(ctx.flags);
    if (!hasFilter(s) && s.all !== true) throw new UsageError(`dead ${sub} needs a filter or --all`, USAGE);
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const result = await runDeadLetterAction(database.db, config.schema, sub, { selector: s });
      ctx.stdout.write(
        'replayed' in result
          ? `replayed ${result.replayed} dead messages; the relay delivers them on its next round\n`
          : `purged ${result.purged} dead messages\n`,
      );
      return EXIT_OK;
    });
  }
  throw new UsageError(
    sub ? `unknown dead subcommand "${sub}"` : 'dead needs a subcommand: list, show, replay or purge',
    USAGE,
  );
}

/** `outbox-relay dead list|show|replay|purge`. */
export const deadCommand: Command = {
  name: 'dead',
  summary: 'list, show, replay or purge dead-lettered messages',
  usage: USAGE,
  flags: {
    id: { type: 'string', multiple: true, description: 'row id or message_id (repeatable, or a comma list)' },
    type: { type: 'string', description: 'message type' },
    destination: { type: 'string', description: 'destination' },
    tenant: { type: 'string', description: 'tenant id' },
    since: { type: 'string', description: 'died at or after: ISO date or age (30m, 6h, 2d)' },
    all: { type: 'boolean', description: 'replay/purge every dead message' },
    limit: { type: 'string', description: 'list at most this many (default 100)' },
    json: { type: 'boolean', description: 'JSON output' },
  },
  run,
};
