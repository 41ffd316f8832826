import { hostname } from 'node:os';

/**
 * The default worker id shown in `locked_by` and job runs: host, pid and a random suffix, so
 * two relays in one process (or a restarted pid) never share an id.
 *
 * @example
 * defaultWorkerId() // 'relay-7f9c:4242:k3x9qa'
 */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}
