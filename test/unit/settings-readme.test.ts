import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsMarkdownTable, withSettingsTable } from '../../src/cli/config/settings-markdown.js';
import { SETTING_LIST } from '../../src/cli/config/settings.js';

const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README settings table', () => {
  it('is the table generated from the declarations (run `npm run docs:settings` when this fails)', () => {
    expect(withSettingsTable(README, settingsMarkdownTable())).toBe(README);
  });

  it('has one row per declared setting', () => {
    const rows = settingsMarkdownTable().split('\n').slice(2);
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(SETTING_LIST.map((s) => `| \`${s.env}\``));
  });
});
