import { withCommandDatabase } from '../runtime/cli-database.js';
import { type Command, EXIT_FAILURE, EXIT_OK, UsageError } from '../command.js';
import { formatStory } from './format-story.js';

const USAGE = `Usage: outbox-relay show <id | message_id> [--json]

Prints one message's story: the message (type, destination, key, tenant, created), where it is
now (waiting, parked behind key X, in flight on relay R, delivered at, dead because), every
attempt and replay from the attempt log, and its trace id when one was captured.`;

/** `outbox-relay show <id>`: everything known about one message. */
export const showCommand: Command = {
  name: 'show',
  summary: "one message's story: where it is, every attempt, replays, trace id",
  usage: USAGE,
  flags: { json: { type: 'boolean', description: 'JSON output' } },
  run: async (ctx) => {
    const [ref, extra] = ctx.args;
    if (!ref || extra !== undefined) throw new UsageError('show takes one id or message_id', USAGE);
    const { getMessageStory } = await import('../../core/maintenance/message-story.js');
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const story = await getMessageStory(database.db, ref, { schema: config.schema });
      if (!story) {
        ctx.stderr.write(`no message with id or message_id "${ref}"\n`);
        return EXIT_FAILURE;
      }
      ctx.stdout.write(ctx.flags.json === true ? `${JSON.stringify(story)}\n` : formatStory(story));
      return EXIT_OK;
    });
  },
};
