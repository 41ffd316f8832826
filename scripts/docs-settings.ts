// Regenerates the README's settings table from src/cli/config/settings.ts (`npm run docs:settings`).
// test/unit/settings-readme.test.ts fails when the README and the declarations disagree.
import fs from 'node:fs';
import { settingsMarkdownTable, withSettingsTable } from '../src/cli/config/settings-markdown.js';

const path = new URL('../README.md', import.meta.url);
const before = fs.readFileSync(path, 'utf8');
const after = withSettingsTable(before, settingsMarkdownTable());
fs.writeFileSync(path, after);
process.stdout.write(
  before === after ? 'README settings table already up to date\n' : 'README settings table updated\n',
);
