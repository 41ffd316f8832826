import type { SettingParser } from './setting-parsers.js';

/** What `start` runs: ours (`relay`, `jobs`, `all`) and seed 003's `0`/`1` read as `api`/`worker`. */
export const WORKER_MODES = ['relay', 'jobs', 'all', 'api', 'worker'] as const;
/** One of `WORKER_MODES`. */
export type WorkerMode = (typeof WORKER_MODES)[number];

/** Seed 003's spellings (`WORKER_MODE=0|1|true|false`) and what they mean here. */
const SEED_MODES: Record<string, WorkerMode> = { '0': 'api', false: 'api', '1': 'worker', true: 'worker' };

/**
 * `WORKER_MODE`: relay, jobs, all, or seed 003's 0/false (API: nothing runs but the HTTP
 * endpoint) and 1/true (worker: relay and jobs).
 *
 * @example
 * workerMode.parse({ raw: '1', label: 'WORKER_MODE', shown: '"1"' }) // { ok: true, value: 'worker' }
 */
export const workerMode: SettingParser<WorkerMode> = {
  flagType: 'string',
  parse(input) {
    const text = input.raw.trim().toLowerCase();
    const value = SEED_MODES[text] ?? WORKER_MODES.find((m) => m === text);
    return value === undefined
      ? {
          ok: false,
          problem: `${input.label} must be one of relay, jobs, all (or 0, 1, true, false), got ${input.shown}`,
        }
      : { ok: true, value };
  },
};

/** What one `start` process runs besides the HTTP endpoint (which follows HTTP_PORT in every mode). */
export interface WorkerRoles {
  readonly relay: boolean;
  readonly jobs: boolean;
}

/**
 * Seed 003's matrix, and ours, in one place:
 *
 * | WORKER_MODE | JOB_RUNNER_ENABLED | runs |
 * |---|---|---|
 * | unset | unset | relay and jobs (`all`, the default) |
 * | unset, 0, false | unset, false | nothing: API mode, HTTP endpoint only |
 * | unset, 0, false | true | relay and jobs (seed 003's "API override") |
 * | 1, true | unset, true | relay and jobs (worker) |
 * | 1, true | false | nothing (worker off, for debugging) |
 * | relay, jobs, all | unset, true | as named |
 * | relay, jobs, all | false | nothing |
 *
 * An unset WORKER_MODE with JOB_RUNNER_ENABLED set is seed 003's API mode ("0 o no set"), so a
 * seed 003 API that only says `JOB_RUNNER_ENABLED=false` never starts relaying.
 *
 * @example
 * workerRoles({ workerMode: 'worker', jobRunnerEnabled: undefined }) // { relay: true, jobs: true }
 */
export function workerRoles(config: {
  workerMode: WorkerMode | undefined;
  jobRunnerEnabled: boolean | undefined;
}): WorkerRoles {
  const mode = config.workerMode ?? (config.jobRunnerEnabled === undefined ? 'all' : 'api');
  const runner = config.jobRunnerEnabled ?? mode !== 'api';
  if (!runner) return { relay: false, jobs: false };
  return { relay: mode !== 'jobs', jobs: mode !== 'relay' };
}
