import { getStats } from '../../core/maintenance/outbox-stats.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { type Command, EXIT_OK } from '../command.js';
import { formatTable } from './format-table.js';

/** `outbox-relay stats [--json]`: what is waiting, where, for whom. */
export const statsCommand: Command = {
  name: 'stats',
  summary: 'counts by status, destination and tenant; oldest pending age; dead count',
  usage: 'Usage: outbox-relay stats [--json] [--exact]',
  flags: {
    json: { type: 'boolean', description: 'print one JSON object' },
    exact: {
      type: 'boolean',
      description: 'count delivered rows exactly (a full scan; the default estimate is instant)',
    },
  },
  run: (ctx) =>
    withCommandDatabase(ctx, async ({ config, database }) => {
      const s = await getStats(database.db, { schema: config.schema, exact: ctx.flags.exact === true });
      if (ctx.flags.json === true) {
        ctx.stdout.write(`${JSON.stringify({ schema: config.schema, ...s })}\n`);
        return EXIT_OK;
      }
      const out = [
        `schema "${config.schema}"`,
        '',
        formatTable([
          ['status', 'count'],
          ...Object.entries(s.byStatus).map(([k, v]) => [
            k,
            k === 'delivered' && s.deliveredIsEstimate ? `~${v} (estimate; --exact counts)` : String(v),
          ]),
        ]),
        // With nothing unfinished, an age of 0.0 s reads as "one just arrived".
        `oldest pending: ${s.byStatus.pending + s.byStatus.in_flight > 0 ? `${s.oldestPendingAgeSeconds.toFixed(1)} s` : 'none (nothing pending)'}`,
        `dead: ${s.byStatus.dead}`,
        '',
      ];
      if (s.byDestination.length > 0) {
        out.push('unfinished and dead by destination:');
        out.push(
          formatTable([
            ['destination', 'status', 'count'],
            ...s.byDestination.map((r) => [r.destination, r.status, String(r.count)]),
          ]),
        );
      }
      if (s.byTenant.length > 0) {
        out.push('unfinished and dead by tenant:');
        out.push(
          formatTable([
            ['tenant', 'status', 'count'],
            ...s.byTenant.map((r) => [r.tenantId ?? '(none)', r.status, String(r.count)]),
          ]),
        );
      }
      ctx.stdout.write(`${out.join('\n')}\n`);
      return EXIT_OK;
    }),
};
