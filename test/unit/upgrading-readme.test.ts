import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/core/migrations/index.js';

const README = path.resolve(import.meta.dirname, '../../README.md');

/** The README's "Upgrading" table rows as MIGRATIONS declares them. */
function upgradingRows(): string[] {
  const yesNo = (b: boolean) => (b ? 'yes' : '**no**');
  return MIGRATIONS.map(
    (m) =>
      `| ${m.version} | ${m.name} | ${yesNo(m.previousRelays.during)} | ${yesNo(m.previousRelays.after)} | ${m.previousRelays.note} |`,
  );
}

describe('README "Upgrading"', () => {
  it('has one table row per migration, as its previousRelays says', () => {
    const text = fs.readFileSync(README, 'utf8');
    const start = text.indexOf('### Upgrading');
    const section = text.slice(start, text.indexOf('\n### ', start + 1));
    const rows = section.split('\n').filter((line) => /^\| \d+ \|/.test(line));
    // On failure, paste the expected rows into the README's table.
    expect(rows.join('\n')).toBe(upgradingRows().join('\n'));
  });
});
