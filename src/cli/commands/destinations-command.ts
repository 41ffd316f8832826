import { listDestinations } from '../../core/maintenance/destinations.js';
import {
  DESTINATION_ACTIONS,
  type DestinationAction,
  describeDestinationResult,
  parseUntil,
  runDestinationAction,
} from '../admin/destination-actions.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { policyOf, runLimitAction } from '../admin/destination-limit-actions.js';
import { describeLimit } from '../admin/describe-limit.js';
import { type Command, type CommandContext, EXIT_OK, UsageError } from '../command.js';
import { formatTable } from './format-table.js';

const USAGE = `Usage:
  outbox-relay destinations list      [--paused] [--json]
  outbox-relay destinations pause     <destination> [--until <ISO date | 30m, 2h, 1d>] [--reason <text>]
  outbox-relay destinations resume    <destination>
  outbox-relay destinations retry-now <destination>
  outbox-relay destinations set       <pattern> [--rate <per second>] [--burst <n>] [--max-in-flight <n>]
  outbox-relay destinations unset     <pattern>

pause: nothing is sent to the destination by any relay sharing the table, every message is
kept; with --until the pause ends by itself then. resume: its held messages are due at once
(also after a 410 Gone paused it). retry-now: messages waiting on a retry backoff are due at
once (on an open circuit breaker: its probe goes out now; resume closes it). list shows every
destination ever paused, opened or limited, with its circuit breaker (open, half-open, closed).
set limits a destination (webhook:acme), a route's destinations (webhook:*) or a tenant
(tenant:acme) for every relay: messages per second with a burst (default one second's worth),
and at most N in flight; excess waits, never charged an attempt. unset removes the limit.
Guide: docs/destinations.md.`;

async function list(ctx: CommandContext): Promise<number> {
  return withCommandDatabase(ctx, async ({ config, database }) => {
    const rows = await listDestinations(database.db, {
      schema: config.schema,
      pausedOnly: ctx.flags.paused === true,
    });
    if (ctx.flags.json === true) {
      ctx.stdout.write(`${JSON.stringify(rows)}\n`);
      return EXIT_OK;
    }
    if (rows.length === 0) {
      ctx.stdout.write('no destination is paused, open or limited, or ever was\n');
      return EXIT_OK;
    }
    ctx.stdout.write(
      formatTable([
        ['destination', 'state', 'until', 'since', 'reason', 'breaker', 'next probe', 'limit'],
        ...rows.map((d) => [
          d.name,
          d.paused
            ? 'paused'
            : d.breaker !== 'closed'
              ? d.breaker
              : d.limit && d.limit.throttled > 0
                ? 'throttled'
                : 'flowing',
          d.paused ? (d.pausedUntil?.toISOString() ?? 'resumed') : '-',
          d.pausedAt?.toISOString() ?? '-',
          d.pausedReason ?? '-',
          d.breaker,
          d.probeAt?.toISOString() ?? '-',
          d.limit ? describeLimit(d.limit) : '-',
        ]),
      ]),
    );
    return EXIT_OK;
  });
}

async function limit(ctx: CommandContext, action: 'set' | 'unset'): Promise<number> {
  const [, pattern, ...rest] = ctx.args;
  if (!pattern) throw new UsageError(`destinations ${action} needs a pattern`, USAGE);
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`, USAGE);
  const given = { rate: ctx.flags.rate, burst: ctx.flags.burst, maxInFlight: ctx.flags['max-in-flight'] };
  if (action === 'unset' && Object.values(given).some((v) => v !== undefined))
    throw new UsageError('--rate, --burst and --max-in-flight go with set only', USAGE);
  const policy = policyOf(given);
  return withCommandDatabase(ctx, async ({ config, database }) => {
    ctx.stdout.write(`${await runLimitAction(database.db, config.schema, action, pattern, policy)}\n`);
    return EXIT_OK;
  });
}

async function run(ctx: CommandContext): Promise<number> {
  const [sub, destination, ...rest] = ctx.args;
  if (sub === 'list') {
    if (destination !== undefined) throw new UsageError(`unexpected argument "${destination}"`, USAGE);
    return list(ctx);
  }
  if (sub === 'set' || sub === 'unset') return limit(ctx, sub);
  if (!DESTINATION_ACTIONS.includes(sub as DestinationAction))
    throw new UsageError(
      sub
        ? `unknown destinations subcommand "${sub}"`
        : 'destinations needs a subcommand: list, pause, resume, retry-now, set or unset',
      USAGE,
    );
  const action = sub as DestinationAction;
  if (!destination) throw new UsageError(`destinations ${action} needs a destination`, USAGE);
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`, USAGE);
  if (action !== 'pause' && (ctx.flags.until !== undefined || ctx.flags.reason !== undefined))
    throw new UsageError('--until and --reason go with pause only', USAGE);
  const until = typeof ctx.flags.until === 'string' ? parseUntil(ctx.flags.until) : undefined;
  const reason = typeof ctx.flags.reason === 'string' ? ctx.flags.reason : undefined;
  return withCommandDatabase(ctx, async ({ config, database }) => {
    const result = await runDestinationAction(database.db, config.schema, action, {
      destination,
      ...(until ? { until } : {}),
      ...(reason ? { reason } : {}),
    });
    ctx.stdout.write(
      ctx.flags.json === true
        ? `${JSON.stringify(result)}\n`
        : `${describeDestinationResult(action, result)}\n`,
    );
    return EXIT_OK;
  });
}

/** `outbox-relay destinations list|pause|resume|retry-now|set|unset`. */
export const destinationsCommand: Command = {
  name: 'destinations',
  summary:
    'list, pause, resume, retry-now or limit (set, unset) destinations, for every relay sharing the table',
  usage: USAGE,
  flags: {
    paused: { type: 'boolean', description: 'list: only destinations paused now' },
    until: { type: 'string', description: 'pause: end of the pause, ISO date or duration (30m, 2h, 1d)' },
    reason: { type: 'string', description: 'pause: why (shown on the status page and in events)' },
    rate: { type: 'string', description: 'set: messages per second (fractions allowed)' },
    burst: {
      type: 'string',
      description: 'set: most messages sent at once after a quiet spell (default: one second of --rate)',
    },
    'max-in-flight': { type: 'string', description: 'set: most messages sent and not yet answered at once' },
    json: { type: 'boolean', description: 'JSON output' },
  },
  run,
};
