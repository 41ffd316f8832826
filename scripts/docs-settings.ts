// Regenerates the configuration reference's settings table (docs/binary.md) from
// src/cli/config/settings.ts (`npm run docs:settings`); test/unit/settings-readme.test.ts fails
// when the guide and the declarations disagree.
import fs from 'node:fs';
import { settingsMarkdownTable, withSettingsTable } from '../src/cli/config/settings-markdown.js';

const path = new URL('../docs/binary.md', import.meta.url);
const before = fs.readFileSync(path, 'utf8');
const after = withSettingsTable(before, settingsMarkdownTable());
fs.writeFileSync(path, after);
process.stdout.write(
  before === after
    ? 'docs/binary.md settings table already up to date\n'
    : 'docs/binary.md settings table updated\n',
);
