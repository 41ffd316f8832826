import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsMarkdownTable, withSettingsTable } from '../../src/cli/config/settings-markdown.js';
import { SETTING_LIST } from '../../src/cli/config/settings.js';

// The configuration reference lives in docs/binary.md (the README links to it).
const README = fs.readFileSync(new URL('../../docs/binary.md', import.meta.url), 'utf8');

describe('the settings table of docs/binary.md', () => {
  it('is the table generated from the declarations (run `npm run docs:settings` when this fails)', () => {
    expect(withSettingsTable(README, settingsMarkdownTable())).toBe(README);
  });

  it('has one row per declared setting', () => {
    const rows = settingsMarkdownTable().split('\n').slice(2);
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(SETTING_LIST.map((s) => `| \`${s.env}\``));
  });
});
