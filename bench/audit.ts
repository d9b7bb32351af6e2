/**
 * `postern audit` beside testssl.sh on the same port, in one run: a private Postfix with Debian's TLS defaults
 * (test/helpers/postfix-variants.ts `defaults`: TLS 1.0–1.3, anonymous suites), STARTTLS on loopback.
 *
 *   postern audit 127.0.0.1:PORT --starttls --json --ca CA    wall time of the command (Node start included),
 *                                                              median of 3 runs; also the report's durationMs
 *   testssl --starttls smtp --add-ca CA 127.0.0.1:PORT         testssl's default run, as a user runs it, once
 *
 * Prints both times, the ratio (target: Postern ≥ 10× faster) and whether the two agree on protocols, cipher
 * suites and certificate verdicts (compareWithTestssl; testssl's default run lists suites without their protocol,
 * so suites are compared as one set). Needs root (Postfix) and Debian's testssl; says so and exits 0 otherwise.
 *
 *   node --import tsx bench/audit.ts [--quick] [--json FILE]
 *   --quick: one Postern run, and testssl with only -p -E -S (the checks the comparison needs)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AuditReport } from '../src/audit/report.js';
import { runCli } from '../test/cli/cli.js';
import { startVariant } from '../test/helpers/postfix-variants.js';
import {
  compareWithTestssl,
  runTestssl,
  TESTSSL_BIN,
  TESTSSL_COMPARE_CHECKS,
  type TestsslResult,
} from '../test/helpers/testssl.js';
import { removeTempDir, tempDir } from '../test/helpers/tmp.js';
import { describeMachine, layoutTable, number } from './report.js';

const TARGET_RATIO = 10;

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } },
});

interface PosternRun {
  readonly seconds: number;
  readonly durationMs: number;
  readonly report: AuditReport;
}

/** Why the bench cannot run here, or undefined. */
function missingPrerequisite(): string | undefined {
  if (process.geteuid?.() !== 0) return 'a private Postfix needs root';
  if (!existsSync('/usr/sbin/postfix')) return 'Postfix is not installed (scripts/install-peers.sh)';
  try {
    execFileSync('sh', ['-c', `command -v ${TESTSSL_BIN}`], { stdio: 'ignore' });
  } catch {
    return 'testssl is not installed (apt-get install testssl.sh)';
  }
  return undefined;
}

function testsslVersion(): string {
  try {
    const out = execFileSync(TESTSSL_BIN, ['--version'], { encoding: 'utf8' });
    // The banner: "testssl       3.0.8 from https://testssl.sh/", with terminal escapes around.
    return /testssl(?:\.sh)?\s+(\d[\w.+-]*)/.exec(out.replace(/\x1b\[[0-9;]*m/g, ''))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function posternAudit(host: string, port: number, caFile: string, home: string): Promise<PosternRun> {
  const args = ['audit', `${host}:${port}`, '--starttls', '--json', '--ca', caFile];
  const started = performance.now();
  const run = await runCli(args, { home, timeoutMs: 120_000 });
  const seconds = (performance.now() - started) / 1000;
  let report: AuditReport;
  try {
    report = JSON.parse(run.stdout) as AuditReport;
  } catch {
    throw new Error(
      `postern ${args.join(' ')} printed no JSON (exit ${run.code}): ${(run.stderr || run.stdout).trim()}`,
    );
  }
  return { seconds, durationMs: report.durationMs, report };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function seconds(value: number): string {
  return `${number(value, value < 10 ? 2 : 1)} s`;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const version = testsslVersion();
  process.stdout.write(
    `postern audit vs testssl.sh ${version} — ${machine.cpuModel}, ${machine.cpus} CPUs, Node ${machine.node}, ` +
      `OpenSSL ${machine.openssl}${flags.quick ? ' (quick)' : ''}\n`,
  );
  const missing = missingPrerequisite();
  if (missing) {
    process.stdout.write(`skipped: ${missing}\n`);
    return;
  }
  const variant = await startVariant('defaults');
  const home = await tempDir('bench-audit-home');
  const target = `${variant.host}:${variant.port}`;
  process.stdout.write(`target: Postfix with Debian's TLS defaults, STARTTLS on ${target}\n\n`);
  let postern: PosternRun[] | { error: string };
  let testssl: TestsslResult;
  try {
    const rounds = flags.quick ? 1 : 3;
    try {
      const runs: PosternRun[] = [];
      for (let i = 0; i < rounds; i++)
        runs.push(await posternAudit(variant.host, variant.port, variant.caFile, home));
      postern = runs;
    } catch (err) {
      postern = { error: (err as Error).message };
    }
    process.stdout.write(
      'error' in postern
        ? `  postern audit: pending: ${postern.error}\n`
        : `  postern audit: ${postern.map((r) => seconds(r.seconds)).join(', ')}\n`,
    );
    testssl = await runTestssl({
      host: variant.host,
      port: variant.port,
      caFile: variant.caFile,
      checks: flags.quick ? TESTSSL_COMPARE_CHECKS : [],
      fastSockets: false,
      timeoutMs: 600_000,
    });
    process.stdout.write(`  testssl:       ${seconds(testssl.seconds)}\n\n`);
  } finally {
    await variant.stop();
    await removeTempDir(home);
  }

  const posternCommand = 'postern audit HOST:PORT --starttls --json --ca CA';
  const testsslCommand = `testssl --starttls smtp --add-ca CA ${flags.quick ? `${TESTSSL_COMPARE_CHECKS.join(' ')} ` : ''}HOST:PORT`;
  let ratio: number | undefined;
  let disagreements: string[] | undefined;
  const rows: string[][] = [];
  const notes: string[] = [];
  if ('error' in postern) {
    rows.push(['postern audit', 'pending', '—']);
  } else {
    const wall = median(postern.map((r) => r.seconds));
    ratio = testssl.seconds / wall;
    rows.push(['postern audit', seconds(wall), `${number(ratio, 1)}× faster`]);
    const inside = median(postern.map((r) => r.durationMs / 1000));
    notes.push(
      `postern audit: ${posternCommand}; ${postern.length === 1 ? 'one run' : `median of ${postern.length} runs`}, ` +
        `Node start included (the audit itself: ${seconds(inside)})`,
    );
    disagreements = compareWithTestssl(postern[0]!.report, testssl);
  }
  rows.push([`testssl.sh ${version}`, seconds(testssl.seconds), '1×']);
  notes.push(`testssl: ${testsslCommand}; one run`);
  for (const problem of testssl.problems) notes.push(`testssl warned: ${problem}`);
  process.stdout.write(`${layoutTable(['tool', 'wall', 'speed'], rows)}\n\n${notes.join('\n')}\n\n`);
  if (ratio !== undefined) {
    process.stdout.write(
      `postern audit is ${number(ratio, 1)}× faster than testssl (target ≥ ${TARGET_RATIO}×: ` +
        `${ratio >= TARGET_RATIO ? 'pass' : 'miss'})\n`,
    );
  }
  if (disagreements) {
    process.stdout.write(
      disagreements.length === 0
        ? 'findings: the same protocols, cipher suites and certificate verdicts as testssl\n'
        : `findings: ${disagreements.length} disagreement(s) with testssl:\n${disagreements.map((d) => `  - ${d}\n`).join('')}`,
    );
  }
  if (flags.json) {
    const figures = {
      date: new Date().toISOString(),
      quick: flags.quick,
      machine,
      testssl: { version, command: testsslCommand, seconds: testssl.seconds, problems: testssl.problems },
      postern:
        'error' in postern
          ? { error: postern.error }
          : { seconds: postern.map((r) => r.seconds), durationMs: postern.map((r) => r.durationMs) },
      ratio: ratio ?? null,
      target: TARGET_RATIO,
      disagreements: disagreements ?? null,
    };
    writeFileSync(flags.json, `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(`figures written to ${flags.json}\n`);
  }
}

await main();
