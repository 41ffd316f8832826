import { createOutbox } from '../../core/producer/outbox.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { type Command, EXIT_OK, integerFlag, UsageError } from '../command.js';

/** `outbox-relay publish`: enqueue test messages, like an app would. */
export const publishCommand: Command = {
  name: 'publish',
  summary: 'enqueue test messages (--type --tenant --destination --count --payload)',
  usage: `Usage: outbox-relay publish [--type <type>] [--tenant <id>] [--destination <dest>] [--count <n>] [--payload <json>]

Writes <count> messages (default 1) in one transaction, as an app would with outbox.add.
Defaults: --type test.event, --destination default (the first OUTBOX_PUBLISHER_TYPE),
--payload '{"test":true}' (each message also gets "seq"). MAX_RETRIES sets their attempts.`,
  flags: {
    type: { type: 'string', description: 'message type (default test.event)' },
    tenant: { type: 'string', description: 'tenant id' },
    destination: { type: 'string', description: 'destination (default "default")' },
    count: { type: 'string', description: 'how many (default 1, at most 100000)' },
    payload: { type: 'string', description: 'JSON object payload' },
    'ordering-key': { type: 'string', description: 'ordering key of every message' },
  },
  run(ctx) {
    const count = integerFlag(ctx.flags, 'count', { min: 1, max: 100_000, fallback: 1 });
    let payload: Record<string, unknown> = { test: true };
    if (typeof ctx.flags.payload === 'string') {
      try {
        payload = JSON.parse(ctx.flags.payload);
      } catch {
        throw new UsageError(`--payload must be JSON, got ${JSON.stringify(ctx.flags.payload)}`);
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
        throw new UsageError('--payload must be a JSON object');
    }
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const outbox = createOutbox({ schema: config.schema, maxAttempts: config.maxRetries });
      const messages = Array.from({ length: count }, (_, i) => ({
        type: typeof ctx.flags.type === 'string' ? ctx.flags.type : 'test.event',
        payload: { ...payload, seq: i + 1 },
        ...(typeof ctx.flags.destination === 'string' ? { destination: ctx.flags.destination } : {}),
        ...(typeof ctx.flags.tenant === 'string' ? { tenantId: ctx.flags.tenant } : {}),
        ...(typeof ctx.flags['ordering-key'] === 'string' ? { orderingKey: ctx.flags['ordering-key'] } : {}),
      }));
      const ids = await database.db.transaction().execute((trx) => outbox.addMany(trx, messages));
      ctx.stdout.write(`enqueued ${ids.length} messages${ids.length <= 10 ? `: ${ids.join(' ')}` : ''}\n`);
      return EXIT_OK;
    });
  },
};
