import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config/load-config.js';
import { workerRoles } from '../../src/cli/config/worker-roles.js';

const roles = (env: Record<string, string>) => workerRoles(loadConfig(env).config);
const NOTHING = { relay: false, jobs: false };
const BOTH = { relay: true, jobs: true };

describe("seed 003's WORKER_MODE / JOB_RUNNER_ENABLED matrix", () => {
  it('keeps today’s default (all) when neither is set', () => {
    expect(roles({})).toEqual(BOTH);
  });

  it.each([
    [{ WORKER_MODE: '0' }, NOTHING],
    [{ WORKER_MODE: 'false' }, NOTHING],
    [{ JOB_RUNNER_ENABLED: 'false' }, NOTHING],
    [{ WORKER_MODE: '0', JOB_RUNNER_ENABLED: 'false' }, NOTHING],
    [{ WORKER_MODE: '0', JOB_RUNNER_ENABLED: 'true' }, BOTH],
    [{ JOB_RUNNER_ENABLED: 'true' }, BOTH],
    [{ WORKER_MODE: '1' }, BOTH],
    [{ WORKER_MODE: 'true' }, BOTH],
    [{ WORKER_MODE: '1', JOB_RUNNER_ENABLED: 'true' }, BOTH],
    [{ WORKER_MODE: '1', JOB_RUNNER_ENABLED: 'false' }, NOTHING],
    [{ WORKER_MODE: 'TRUE', JOB_RUNNER_ENABLED: 'false' }, NOTHING],
  ])('%j runs %j', (env, expected) => {
    expect(roles(env)).toEqual(expected);
  });

  it('keeps relay, jobs and all as they were, JOB_RUNNER_ENABLED=false turning them off', () => {
    expect(roles({ WORKER_MODE: 'relay' })).toEqual({ relay: true, jobs: false });
    expect(roles({ WORKER_MODE: 'jobs' })).toEqual({ relay: false, jobs: true });
    expect(roles({ WORKER_MODE: 'all', JOB_RUNNER_ENABLED: 'true' })).toEqual(BOTH);
    expect(roles({ WORKER_MODE: 'relay', JOB_RUNNER_ENABLED: 'false' })).toEqual(NOTHING);
  });

  it('refuses other words, naming both vocabularies', () => {
    expect(() => loadConfig({ WORKER_MODE: '2' })).toThrow(
      'WORKER_MODE must be one of relay, jobs, all (or 0, 1, true, false), got "2"',
    );
  });
});
