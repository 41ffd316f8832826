import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of `file`, as a path relative to src/ (`core/store/index.ts`). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    path.relative(SRC, path.resolve(path.dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
  );
}

const FILES = tsFiles(SRC).map((f) => ({ file: path.relative(SRC, f), imports: importsOf(f) }));

/**
 * The rooms of the core, lowest first: a room may import its own files and the rooms below it,
 * never one above (store never imports the relay, foundation imports no other room).
 */
const CORE_ROOMS: Record<string, number> = {
  foundation: 0,
  store: 1,
  migrations: 1,
  producer: 2,
  maintenance: 2,
  relay: 3,
};

const room = (p: string) => /^core\/([^/]+)\//.exec(p)?.[1];

describe('the layout of src/', () => {
  it('puts every core file in a room with an index.ts as its public face', () => {
    const loose = FILES.filter((f) => f.file.startsWith('core/') && room(f.file) === undefined);
    expect(loose.map((f) => f.file)).toEqual(['core/index.ts']);
    for (const r of Object.keys(CORE_ROOMS))
      expect(fs.existsSync(path.join(SRC, 'core', r, 'index.ts'))).toBe(true);
    const rooms = new Set(FILES.map((f) => room(f.file)).filter(Boolean));
    expect([...rooms].sort()).toEqual(Object.keys(CORE_ROOMS).sort());
  });

  it('has no import that runs up a layer', () => {
    const wrong: string[] = [];
    for (const { file, imports } of FILES) {
      for (const target of imports) {
        if (file.startsWith('core/') && !target.startsWith('core/')) wrong.push(`${file} -> ${target}`);
        if (file.startsWith('publishers/') && /^(cli|jobs|inbox)\//.test(target))
          wrong.push(`${file} -> ${target}`);
        if (file.startsWith('jobs/') && /^(cli|publishers)\//.test(target))
          wrong.push(`${file} -> ${target}`);
        const from = room(file);
        const to = room(target);
        if (from && to && CORE_ROOMS[to]! > CORE_ROOMS[from]!) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lets no runtime code import a released migration (a migration keeps its own SQL)', () => {
    const wrong = FILES.filter(
      (f) => !f.file.startsWith('core/migrations/') && f.imports.some((i) => /migrations\/\d{4}-/.test(i)),
    );
    expect(wrong.map((f) => f.file)).toEqual([]);
  });

  it('keeps every file under 400 lines', () => {
    const long = FILES.map((f) => ({
      file: f.file,
      lines: fs.readFileSync(path.join(SRC, f.file), 'utf8').split('\n').length,
    })).filter((f) => f.lines > 400 && !f.file.startsWith('core/migrations/'));
    expect(long).toEqual([]);
  });

  it('reads process.env only in src/cli', () => {
    const wrong = FILES.filter(
      (f) =>
        !f.file.startsWith('cli/') &&
        fs
          .readFileSync(path.join(SRC, f.file), 'utf8')
          .split('\n')
          .some((line) => line.includes('process.env') && !/^\s*(\*|\/\/)/.test(line)),
    );
    expect(wrong.map((f) => f.file)).toEqual([]);
  });
});

describe('CONTRIBUTING.md', () => {
  const text = fs.readFileSync(path.join(ROOT, 'CONTRIBUTING.md'), 'utf8');

  it('names only paths that exist', () => {
    // Every `src/...`, `test/...`, `bench/...`, `docs/...`, `examples/...` or `scripts/...` in backticks.
    const named = [...text.matchAll(/`((?:src|test|bench|docs|examples|scripts)\/[^`\s*<>]+)`/g)].map(
      (m) => m[1]!,
    );
    expect(named.length).toBeGreaterThan(20);
    const missing = named.filter((p) => !fs.existsSync(path.join(ROOT, p.replace(/\/$/, ''))));
    expect(missing).toEqual([]);
  });

  it('maps every room of the core', () => {
    for (const r of Object.keys(CORE_ROOMS)) expect(text).toMatch(new RegExp(`^ {2}${r}/ `, 'm'));
  });
});
