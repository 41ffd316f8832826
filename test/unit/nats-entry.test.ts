import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Every package a module imports, following the relative imports it reaches (types excluded). */
function packagesReachedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
      if (spec!.startsWith('.')) visit(path.resolve(path.dirname(file), spec!.replace(/\.js$/, '.ts')));
      else packages.add(spec!);
    }
  };
  visit(path.join(root, entry));
  return packages;
}

describe('outbox-relay/nats subpath entry', () => {
  it('keeps the NATS client out of the main entry, so apps without NATS never load it', () => {
    const main = [...packagesReachedFrom('src/index.ts')];
    expect(main.filter((p) => p.startsWith('@nats-io/'))).toEqual([]);
    expect([...packagesReachedFrom('src/publishers/nats/index.ts')]).toContain('@nats-io/jetstream');
  });

  it('lets the binary load and validate its settings without the NATS client', () => {
    for (const entry of [
      'src/cli/config/load-config.ts',
      'src/cli/runtime/build-publishers.ts',
      'src/cli/main.ts',
    ]) {
      expect(
        [...packagesReachedFrom(entry)].filter((p) => p.startsWith('@nats-io/')),
        entry,
      ).toEqual([]);
    }
  });

  it('is exported as ./nats in package.json', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./nats']).toEqual({
      types: './dist/publishers/nats/index.d.ts',
      import: './dist/publishers/nats/index.js',
    });
  });
});
