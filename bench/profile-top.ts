/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. bench/profile-client.ts) on the terminal:
 *
 *   node --import tsx bench/profile-top.ts FILE [N]              # the N functions with the most self time
 *   node --import tsx bench/profile-top.ts FILE [N] --under NAME  # self time inside calls to function NAME
 *
 * Native work shows under the JavaScript function that called into it (e.g. `writev` for a socket write).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { under: { type: 'string' } },
});
const [file, count = '40'] = positionals;
if (!file) {
  process.stderr.write('usage: profile-top.ts FILE [N] [--under NAME]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const label = (n: ProfileNode): string => {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`;
};

/** Self time per function label, over the given subtrees (each node counted once). */
function tally(roots: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = nodes.get(id)!;
    out.set(label(node), (out.get(label(node)) ?? 0) + (self.get(id) ?? 0));
    stack.push(...(node.children ?? []));
  }
  return out;
}

const roots = values.under
  ? profile.nodes.filter((n) => n.callFrame.functionName === values.under).map((n) => n.id)
  : [profile.nodes[0]!.id];
const totals = tally(roots);
const all = [...totals.values()].reduce((a, b) => a + b, 0);
for (const [name, micros] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  const ms = (micros / 1000).toFixed(1).padStart(9);
  const share = ((100 * micros) / (all || 1)).toFixed(1).padStart(5);
  process.stdout.write(`${ms} ms ${share}%  ${name}\n`);
}
process.stdout.write(`${(all / 1000).toFixed(0)} ms in all\n`);
