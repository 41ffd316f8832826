import { hostname } from 'node:os';

/** Random per process: a restarted process that gets the same pid still has a new id. */
const PROCESS_SUFFIX = Math.random().toString(36).slice(2, 8);

/**
 * The default worker id shown in `locked_by` and job runs: host, pid and a suffix random per
 * process. Relays in one process share it safely: write-backs also match the attempt number.
 *
 * @example
 * defaultWorkerId() // 'relay-7f9c:4242:k3x9qa'
 */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${PROCESS_SUFFIX}`;
}
