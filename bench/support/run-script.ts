import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Runs `bench/<name>.ts` in its own Node process against `url` and returns its stdout. The
 * webhook and RouterOS benches run their receivers and routers in the same process as the
 * relay, so they get a process of their own rather than the runner's event loop.
 */
export async function runBenchScript(name: string, url: string, argv: string[]): Promise<string> {
  const script = fileURLToPath(new URL(`../${name}.ts`, import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...argv], {
    env: { ...process.env, DATABASE_URL: url },
    maxBuffer: 1 << 20,
  });
  return stdout;
}
