import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Self time per function of a V8 `.cpuprofile` (from `--cpu-prof` or the inspector), the
 * busiest first, idle left out: where a drain's relay CPU goes (bench/notes/relay-cpu.md).
 *
 * @example
 * console.log(profileSummary('drain.cpuprofile', 30));
 */
export function profileSummary(file: string, top = 30): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') return;
    const us = p.timeDeltas[i] ?? 0;
    busy += us;
    const where = f.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const key = `${f.functionName || '(anonymous)'} ${where ? `${where}:${f.lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + us);
  });
  const rows = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([k, us]) =>
        `${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`,
    );
  return [`busy ${(busy / 1000).toFixed(0)} ms (self time, idle left out)`, ...rows].join('\n');
}
