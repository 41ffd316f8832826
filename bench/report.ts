/**
 * The bench run's outputs: the markdown table on stdout, bench/results/latest.json and the
 * hand-written SVG chart. Everything derives from the rows the scenarios added.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, type Row, type SizeName } from './scenario.js';

/** Prints the rows as a markdown table headed by the machine line. */
export function printTable(rows: readonly Row[], sizeName: SizeName, machine: string): void {
  const header = ['scenario', 'system', 'settings', 'result', 'ratio'];
  const body = rows.map((r) => [
    r.scenario,
    r.system,
    r.settings,
    `${fmt(r.value)} ${r.unit}${r.detail ? ` (${r.detail})` : ''}`,
    r.ratio === undefined
      ? ''
      : `${r.ratio.toFixed(2)}x ${r.ratioOf ?? ''}${r.higherIsBetter ? '' : ' (lower is better)'}`.trim(),
  ]);
  console.log(`\noutbox-relay bench (${sizeName}) on ${machine}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const line of body) console.log(`| ${line.join(' | ')} |`);
}

/** Writes bench/results/latest.json and latest.svg. */
export function writeResults(rows: readonly Row[], sizeName: SizeName, machine: string): void {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}latest.json`,
    `${JSON.stringify({ size: sizeName, machine, date: new Date().toISOString(), rows }, null, 2)}\n`,
  );
  writeFileSync(`${dir}latest.svg`, chart(rows, sizeName, machine));
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A hand-written horizontal bar chart: one panel per scenario, bars scaled within the panel. */
function chart(rows: readonly Row[], sizeName: SizeName, machine: string): string {
  const colors: Record<Row['system'], string> = {
    'outbox-relay': '#2f7d32',
    'graphile-worker': '#1f5fa8',
    'pg-boss': '#b0582a',
    reference: '#888888',
  };
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const width = 900;
  const barH = 18;
  let y = 40;
  const parts: string[] = [];
  for (const sc of scenarios) {
    const group = rows.filter((r) => r.scenario === sc);
    const max = Math.max(...group.map((r) => (Number.isFinite(r.value) ? r.value : 0)), 1e-9);
    const lowerBetter = group[0]!.higherIsBetter ? '' : ' (lower is better)';
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escapeXml(sc + lowerBetter)}</text>`);
    y += 8;
    for (const r of group) {
      const w = Math.max(1, ((Number.isFinite(r.value) ? r.value : 0) / max) * 420);
      const label = `${r.system}: ${r.settings}`.slice(0, 52);
      parts.push(
        `<text x="10" y="${y + 13}" font-size="11">${escapeXml(label)}</text>`,
        `<rect x="340" y="${y}" width="${w.toFixed(1)}" height="${barH - 4}" fill="${colors[r.system]}"/>`,
        `<text x="${(345 + w).toFixed(1)}" y="${y + 12}" font-size="11">${escapeXml(`${fmt(r.value)} ${r.unit}`)}</text>`,
      );
      y += barH;
    }
    y += 14;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(`outbox-relay vs graphile-worker vs pg-boss (${sizeName}) - ${machine}`)}</text>
${parts.join('\n')}
</svg>
`;
}
