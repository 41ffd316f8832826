import { type Command, EXIT_FAILURE, EXIT_OK, integerFlag } from '../command.js';
import { createCliLogger, asCoreLogger } from '../runtime/cli-logger.js';
import { loadConfig } from '../config/load-config.js';

/** `outbox-relay demo`: see events flow end to end on a fresh machine, offline. */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'embedded PostgreSQL, a burst of orders, the relay delivering them, a summary',
  usage: `Usage: outbox-relay demo [--orders <n>] [--json]

Starts an embedded PostgreSQL (or uses DATABASE_URL, in a new schema), migrates it, writes
orders with their events and PPPoE commands in business transactions (some rolled back, some
failing their first attempts, a few undeliverable), runs the relay with a live progress line,
and prints a summary read back from the database. Exits 0 when every count agrees.`,
  flags: {
    orders: { type: 'string', description: 'business transactions to run (default 300)' },
    json: { type: 'boolean', description: 'print the summary as one JSON object' },
  },
  async run(ctx) {
    const { config, sources } = loadConfig(ctx.env, ctx.flags, { isTty: ctx.stdout.isTTY === true });
    const orders = integerFlag(ctx.flags, 'orders', { min: 1, max: 100_000, fallback: 300 });
    // The demo speaks through its progress line: relay logs only show errors unless LOG_LEVEL asks.
    const level = sources.LOG_LEVEL === 'default' ? 'error' : config.logLevel;
    const logger = asCoreLogger(createCliLogger({ level, pretty: config.logPretty, fd: 2 }));
    // Loaded on use: the demo brings the webhook client, the fake router and embedded PostgreSQL.
    const { runDemo } = await import('../demo/run-demo.js');
    // Ctrl-C or SIGTERM mid-demo: leave through process.exit, so the embedded PostgreSQL's exit
    // hook stops the server instead of leaving it running without its parent.
    const interrupted = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    const summary = await runDemo({
      out: ctx.stdout,
      orders,
      json: ctx.flags.json === true,
      ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
      ...(sources.OUTBOX_SCHEMA === 'default' ? {} : { schema: config.schema }),
      logger,
    }).finally(() => {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    });
    return summary.ok ? EXIT_OK : EXIT_FAILURE;
  },
};
