import { pathToFileURL } from 'node:url';

/** True when `importMetaUrl` is the script node was started with (run directly, not imported). */
export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}
