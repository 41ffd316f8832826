import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/core/migrations/index.js';

const UPGRADING = path.resolve(import.meta.dirname, '../../docs/upgrading.md');

/** The "Upgrading" guide's table rows as MIGRATIONS declares them. */
function upgradingRows(): string[] {
  const yesNo = (b: boolean) => (b ? 'yes' : '**no**');
  return MIGRATIONS.map(
    (m) =>
      `| ${m.version} | ${m.name} | ${yesNo(m.previousRelays.during)} | ${yesNo(m.previousRelays.after)} | ${m.previousRelays.note} |`,
  );
}

describe('docs/upgrading.md', () => {
  it('has one table row per migration, as its previousRelays says', () => {
    const text = fs.readFileSync(UPGRADING, 'utf8');
    const rows = text.split('\n').filter((line) => /^\| \d+ \|/.test(line));
    // On failure, paste the expected rows into the guide's table.
    expect(rows.join('\n')).toBe(upgradingRows().join('\n'));
  });
});
