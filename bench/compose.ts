/**
 * Composition throughput and peak memory: Postern's compose() beside nodemailer's MailComposer, in one run.
 *
 *   a. text + HTML + a 5 MiB attachment (a Buffer), composed and read to the end, many times
 *   b. one 100 MiB attachment streamed from a file
 *
 * Each (library, scenario) runs in a fresh process, so its peak RSS (getrusage maxrss) is its own; the
 * figure shown is the growth over the process's RSS before the first compose (libraries loaded, input
 * ready), median of three runs. Throughput is output bytes per second over the timed rounds, after a
 * warm-up round, best of three runs. Both read the stream to the end and drop the chunks.
 *
 *   node --import tsx bench/compose.ts [--quick] [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { loadBuilt } from './built.js';

const { compose } = await loadBuilt<typeof import('../src/mime/index.js')>('mime/index.js');

const MiB = 1024 * 1024;
type Library = 'postern' | 'nodemailer';
type Scenario = 'mixed' | 'large';

interface Result {
  readonly library: Library;
  readonly scenario: Scenario;
  readonly rounds: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbps: number;
  readonly rssBeforeMiB: number;
  readonly peakGrowthMiB: number;
}

const TEXT = 'Hello,\n\nthe quarterly figures are attached. Grüße aus Köln.\n'.repeat(40);
const HTML = `<html><body>${'<p>The quarterly figures are attached. Grüße aus Köln.</p>\n'.repeat(40)}</body></html>`;

async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

async function composeOnce(
  library: Library,
  scenario: Scenario,
  data: { attachment?: Buffer; path?: string },
): Promise<number> {
  const attachments =
    scenario === 'mixed'
      ? [{ filename: 'figures.bin', content: data.attachment! }]
      : [{ filename: 'large.bin', path: data.path! }];
  const message = {
    from: 'Bench Sender <sender@example.test>',
    to: 'Recipient <rcpt@example.test>',
    subject: 'Quarterly figures — Q1',
    ...(scenario === 'mixed' ? { text: TEXT, html: HTML } : { text: 'see attached' }),
    attachments,
  };
  if (library === 'postern') {
    const composed = await compose(message);
    return drain(composed.stream());
  }
  return drain(new MailComposer(message).compile().createReadStream());
}

async function worker(library: Library, scenario: Scenario, rounds: number, path: string): Promise<void> {
  const data = scenario === 'mixed' ? { attachment: randomBytes(5 * MiB) } : { path };
  const rssBefore = process.memoryUsage.rss();
  await composeOnce(library, scenario, data); // warm-up
  const start = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < rounds; i++) bytes += await composeOnce(library, scenario, data);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const peak = process.resourceUsage().maxRSS * 1024;
  const result: Result = {
    library,
    scenario,
    rounds,
    bytes,
    seconds,
    mbps: bytes / MiB / seconds,
    rssBeforeMiB: rssBefore / MiB,
    peakGrowthMiB: (peak - rssBefore) / MiB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function run(library: Library, scenario: Scenario, rounds: number, path: string): Result {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', library, scenario, String(rounds), path],
    { encoding: 'utf8', maxBuffer: 16 * MiB },
  );
  if (child.status !== 0) throw new Error(`${library}/${scenario} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Result;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      worker: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  if (values.worker) {
    const [library, scenario, rounds, path] = positionals as [Library, Scenario, string, string];
    await worker(library, scenario, Number(rounds), path);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'postern-bench-compose-'));
  try {
    const path = join(dir, 'large.bin');
    const largeSize = (values.quick ? 20 : 100) * MiB;
    const block = randomBytes(MiB);
    writeFileSync(path, Buffer.concat(Array.from({ length: largeSize / MiB }, () => block)));
    const plan: [Scenario, number][] = [
      ['mixed', values.quick ? 5 : 40],
      ['large', values.quick ? 1 : 5],
    ];
    const results: Result[] = [];
    for (const [scenario, rounds] of plan) {
      // The libraries take turns, three runs each; each shows its best throughput and its median memory.
      const runs: Record<Library, Result[]> = { postern: [], nodemailer: [] };
      for (let i = 0; i < 3; i++) {
        for (const library of i % 2 === 0
          ? (['nodemailer', 'postern'] as const)
          : (['postern', 'nodemailer'] as const)) {
          runs[library].push(run(library, scenario, rounds, path));
        }
      }
      const pick = (library: Library): Result => {
        const best = runs[library].reduce((a, b) => (a.mbps >= b.mbps ? a : b));
        const growth = runs[library].map((r) => r.peakGrowthMiB).sort((a, b) => a - b)[1]!;
        return { ...best, peakGrowthMiB: growth };
      };
      const nodemailer = pick('nodemailer');
      const postern = pick('postern');
      results.push(postern, nodemailer);
      const label =
        scenario === 'mixed'
          ? 'text + html + 5 MiB attachment'
          : `${largeSize / MiB} MiB attachment from disk`;
      console.log(`${label}:`);
      for (const r of [postern, nodemailer]) {
        console.log(
          `  ${r.library.padEnd(10)} ${r.mbps.toFixed(1).padStart(7)} MiB/s   peak RSS growth ${r.peakGrowthMiB.toFixed(1).padStart(6)} MiB`,
        );
      }
      console.log(
        `  ratio: ${(postern.mbps / nodemailer.mbps).toFixed(2)}× throughput, ${(postern.peakGrowthMiB / nodemailer.peakGrowthMiB).toFixed(2)}× peak memory`,
      );
    }
    if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
