import { isMessageRef, parseMessageRef } from '../../core/foundation/parse-message-ref.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { type Command, EXIT_OK, integerFlag, UsageError } from '../command.js';
import { formatAttempts } from './format-story.js';
import { parseSince } from './parse-since.js';

const USAGE = `Usage:
  outbox-relay attempts --message <message_id> [--json]
  outbox-relay attempts --destination <destination> [--since <age | ISO date>] [--limit <n>] [--json]
  outbox-relay attempts [--since <age | ISO date>] [--limit <n>] [--json]

Reads the delivery-attempt log: one message's attempts and replays (oldest first), or the
latest attempts of a destination or of all (newest first). What is logged follows the relays'
ATTEMPT_LOG (failures by default: delivered attempts are logged only with ATTEMPT_LOG=all).`;

/** `outbox-relay attempts`: the attempt log by message or destination. */
export const attemptsCommand: Command = {
  name: 'attempts',
  summary: "read the delivery-attempt log: a message's attempts, or a destination's latest",
  usage: USAGE,
  flags: {
    message: { type: 'string', description: 'one message_id (UUID): its attempts, oldest first' },
    destination: { type: 'string', description: 'one destination: its latest attempts' },
    since: { type: 'string', description: 'written at or after: ISO date or age (30m, 1h, 2d)' },
    limit: { type: 'string', description: 'at most this many rows (default 100)' },
    json: { type: 'boolean', description: 'JSON output' },
  },
  run: async (ctx) => {
    if (ctx.args.length) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, USAGE);
    const limit = integerFlag(ctx.flags, 'limit', { min: 1, max: 10_000, fallback: 100 });
    const since = typeof ctx.flags.since === 'string' ? parseSince(ctx.flags.since) : undefined;
    const messageId = typeof ctx.flags.message === 'string' ? ctx.flags.message : undefined;
    if (
      messageId !== undefined &&
      !(isMessageRef(messageId) && parseMessageRef(messageId).kind === 'messageId')
    )
      throw new UsageError(`--message must be a message_id (UUID), got "${messageId}"`, USAGE);
    const destination = typeof ctx.flags.destination === 'string' ? ctx.flags.destination : undefined;
    const { listAttempts } = await import('../../core/maintenance/attempts.js');
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const rows = await listAttempts(database.db, {
        schema: config.schema,
        limit,
        ...(messageId !== undefined ? { messageId } : {}),
        ...(destination !== undefined ? { destination } : {}),
        ...(since ? { since } : {}),
      });
      if (ctx.flags.json === true) ctx.stdout.write(`${JSON.stringify(rows)}\n`);
      else ctx.stdout.write(rows.length === 0 ? 'no attempts match\n' : formatAttempts(rows));
      return EXIT_OK;
    });
  },
};
