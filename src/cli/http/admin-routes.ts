import { getStats } from '../../core/maintenance/index.js';
import {
  type DeadLetterAction,
  deadLetterTarget,
  runDeadLetterAction,
} from '../admin/dead-letter-actions.js';
import { readJson, send } from './http-io.js';
import type { Route, RouteContext } from './route.js';

const JOBS_OFF = { error: 'jobs are not running in this process (WORKER_MODE/ENABLE_JOBS)' };

/**
 * Runs job `name` (or an alias of one) now and answers with its outcome: 200, 409 when it runs
 * elsewhere, 500 when it failed, 404 when there is no such job or no scheduler here.
 *
 * @example
 * await runJobRoute(ctx, 'cleanup');
 */
export async function runJobRoute({ res, state, log }: RouteContext, name: string): Promise<void> {
  if (!state.scheduler) return send(res, 404, JOBS_OFF);
  if (!state.scheduler.has(name))
    return send(res, 404, { error: `no job named "${name}"`, jobs: state.scheduler.names });
  log.info({ job: name }, 'admin: running job');
  const outcome = await state.scheduler.runOnce(name);
  send(res, outcome.status === 'skipped' ? 409 : outcome.status === 'failed' ? 500 : 200, {
    job: name,
    ...outcome,
  });
}

function deadLetters(action: DeadLetterAction): Route['handle'] {
  return async ({ req, res, state, log }: RouteContext) => {
    const target = deadLetterTarget(await readJson(req));
    const result = await runDeadLetterAction(state.db, state.schema, action, target);
    log.info(
      { ...result, ...('group' in target ? target.group : {}) },
      `admin: ${action === 'replay' ? 'replayed' : 'purged'} dead messages`,
    );
    if (action === 'replay') state.relay?.wake();
    send(res, 200, result);
  };
}

/**
 * The JSON API: job status and stats to read, and the admin actions (run a job now, replay or
 * purge dead letters, by filter or by status-page group) behind the admin token.
 *
 * @example
 * findRoute(ADMIN_ROUTES, 'POST', '/api/admin/dead/replay');
 */
export const ADMIN_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/jobs/status',
    async handle({ res, state }) {
      // `enabled` and each job's name, cron, running: seed 004's shape, plus ours.
      if (!state.scheduler) return send(res, 200, { enabled: false, reason: JOBS_OFF.error, jobs: [] });
      send(res, 200, { enabled: true, jobs: await state.scheduler.status() });
    },
  },
  {
    method: 'GET',
    path: '/api/stats',
    async handle({ res, state }) {
      send(res, 200, await getStats(state.db, { schema: state.schema }));
    },
  },
  {
    method: 'POST',
    path: /^\/api\/admin\/jobs\/run\/([^/]+)$/,
    admin: true,
    handle: (ctx) => runJobRoute(ctx, ctx.params[0]!),
  },
  { method: 'POST', path: '/api/admin/dead/replay', admin: true, handle: deadLetters('replay') },
  { method: 'POST', path: '/api/admin/dead/purge', admin: true, handle: deadLetters('purge') },
];
