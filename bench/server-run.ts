/**
 * The server benchmark: one fixed client load against Postern's SmtpServer and smtp-server (npm), in one run,
 * printed as ratios Postern/smtp-server. `npm run bench` runs it at the end; alone:
 *
 *   node --import tsx bench/server-run.ts [--quick] [--json FILE]
 *
 *   1. 1 KB messages over 1 and over 4 STARTTLS connections (msg/s, and server CPU per message)
 *   2. 1,000 idle TLS connections at once (server RSS growth per connection)
 *   3. one 100 MiB message (server RSS growth, MiB/s)
 *
 * Each server runs alone in its own process (server-target.ts), pinned to CPU 0; the load (server-load.ts,
 * a raw pipelining client) runs in another, pinned to CPU 1. Every scenario group gets a fresh server
 * process, and the servers take turns going first. The bench's bare sink (sink-server.ts) takes the same
 * msg/s load as the ceiling of what the load and this machine allow. Memory and CPU are read from /proc.
 *
 * For profiling: --profile DIR (node --cpu-prof of every server process), --only one,four,idle,large,
 * --server postern|smtp-server.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { median } from './figures.js';
import {
  LOAD_CPU,
  type Measured,
  measureIdle,
  measureLarge,
  measureMessages,
  type Pem,
  SERVER_CPU,
  type Served,
  Target,
} from './server-measure.js';
import { PINNING } from './server-process.js';
import {
  formatServerTable,
  type ServerRow,
  serverRatio,
  serverTargetText,
  serverVerdict,
} from './server-report.js';
import type { ServerKind } from './server-target.js';

const MiB = 1024 * 1024;
const SERVERS: readonly ServerKind[] = ['smtp-server', 'postern'];

type Scenario = 'one' | 'four' | 'idle' | 'large';

interface ServerPlan {
  readonly rounds: number;
  readonly size: number;
  /** Measured messages (in total) and warm-up messages per connection. */
  readonly one: { readonly messages: number; readonly warmup: number };
  readonly four: { readonly messages: number; readonly warmup: number };
  readonly idle: { readonly connections: number; readonly concurrency: number };
  readonly large: { readonly bytes: number };
}

// Warm-ups are long because a server runs for days: Postern's throughput keeps rising over its first
// ~30,000 messages as V8 optimises it (smtp-server's is flat after a few thousand), and the figures are
// meant to show both in their steady state. Both get the same warm-up, on the measured connections.
const FULL: ServerPlan = {
  rounds: 3,
  size: 1024,
  one: { messages: 6000, warmup: 5000 },
  four: { messages: 12000, warmup: 5000 },
  idle: { connections: 1000, concurrency: 50 },
  large: { bytes: 100 * MiB },
};

const QUICK: ServerPlan = {
  rounds: 1,
  size: 1024,
  one: { messages: 500, warmup: 100 },
  four: { messages: 1000, warmup: 50 },
  idle: { connections: 100, concurrency: 20 },
  large: { bytes: 8 * MiB },
};

/** One scenario run against one server. */
interface Run extends Measured {
  readonly scenario: Scenario;
  readonly server: Served;
  readonly round: number;
}

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    profile: { type: 'string' },
    only: { type: 'string' },
    server: { type: 'string' },
  },
});
const plan = flags.quick ? QUICK : FULL;
const runs: Run[] = [];
const failures: string[] = [];

async function certificate(): Promise<Pem> {
  const { createCa, createCertificate } = await import('../src/tls/index.js');
  const ca = await createCa({ commonName: 'Postern server bench CA', days: 2 });
  const leaf = await createCertificate({
    commonName: 'localhost',
    altNames: ['DNS:localhost', 'IP:127.0.0.1'],
    issuer: ca,
    days: 2,
  });
  return { cert: leaf.cert, key: leaf.key, ca: ca.cert };
}

function fmt(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

const rate = (r: Run) => r.load.messages / r.load.seconds;
const serverCpuUs = (r: Run) => ((r.serverCpuMs ?? 0) * 1000) / r.load.messages;
const loadShare = (r: Run) => r.load.cpuMs / (r.load.seconds * 1000);

function log(run: Run): void {
  const l = run.load;
  let text: string;
  if (run.scenario === 'one' || run.scenario === 'four') {
    text =
      `${fmt(rate(run), 0)} msg/s, server cpu ${fmt(serverCpuUs(run), 0)} µs/msg, ` +
      `load cpu ${fmt(loadShare(run) * 100, 0)}%`;
    const warmup = run.scenario === 'one' ? plan.one.warmup : plan.four.warmup * 4;
    const expected = l.messages + warmup;
    if (run.messagesCounted !== expected) {
      text += ` (warning: the server counted ${run.messagesCounted}, not ${expected})`;
    }
  } else if (run.scenario === 'idle') {
    text =
      `${l.connections} conns open in ${fmt(l.seconds, 2)} s, ` +
      `server rss +${fmt((run.rssGrowth ?? 0) / 1024, 1)} KiB/conn`;
  } else {
    text = `${fmt(l.bytes / MiB / l.seconds, 1)} MiB/s, server rss +${fmt((run.rssGrowth ?? 0) / MiB, 1)} MiB`;
  }
  process.stdout.write(`  ${run.scenario.padEnd(6)} round ${run.round}  ${run.server.padEnd(11)}  ${text}\n`);
}

/** Runs `names` in order against one fresh process of `served`. */
async function group(served: Served, round: number, pem: Pem, names: readonly Scenario[]): Promise<void> {
  const target = await Target.start(served, pem, flags.profile);
  try {
    for (const name of names) {
      try {
        let measured: Measured;
        if (name === 'idle') measured = await measureIdle(target, pem.ca, plan.idle);
        else if (name === 'large') measured = await measureLarge(target, pem.ca, plan.large);
        else {
          const connections = name === 'one' ? 1 : 4;
          measured = await measureMessages(target, pem.ca, { connections, size: plan.size, ...plan[name] });
        }
        const run: Run = { scenario: name, server: served, round, ...measured };
        runs.push(run);
        log(run);
      } catch (error) {
        const text = `${name} round ${round} ${served}: ${error instanceof Error ? error.message : String(error)}`;
        failures.push(text);
        process.stdout.write(`  error: ${text}\n`);
      }
    }
  } finally {
    await target.stop();
  }
}

function figure(name: Scenario, served: Served, pick: (r: Run) => number, worst = false) {
  const values = runs.filter((r) => r.scenario === name && r.server === served).map(pick);
  if (values.length === 0) return undefined;
  return worst ? Math.max(...values) : median(values);
}

function rows(): ServerRow[] {
  const both = (name: Scenario, pick: (r: Run) => number, worst = false) => ({
    smtpServer: figure(name, 'smtp-server', pick, worst),
    postern: figure(name, 'postern', pick, worst),
  });
  const kb = plan.size / 1024;
  const large = `${plan.large.bytes / MiB} MiB message`;
  return [
    {
      label: `${kb} KB messages, 1 STARTTLS conn`,
      unit: 'msg/s',
      decimals: 0,
      ...both('one', rate),
      target: { kind: 'ratio-at-least', value: 1.5 },
    },
    { label: '  server CPU per message, 1 conn', unit: 'µs', decimals: 0, ...both('one', serverCpuUs) },
    {
      label: `${kb} KB messages, 4 STARTTLS conns`,
      unit: 'msg/s',
      decimals: 0,
      ...both('four', rate),
      target: { kind: 'ratio-at-least', value: 1.5 },
    },
    { label: '  server CPU per message, 4 conns', unit: 'µs', decimals: 0, ...both('four', serverCpuUs) },
    {
      label: `${fmt(plan.idle.connections, 0)} idle TLS conns: server RSS per conn`,
      unit: 'KiB',
      decimals: 1,
      ...both('idle', (r) => (r.rssGrowth ?? 0) / 1024),
      target: { kind: 'ratio-at-most', value: 1 },
    },
    {
      label: `${large}: server RSS growth (worst)`,
      unit: 'MiB',
      decimals: 1,
      ...both('large', (r) => (r.rssGrowth ?? 0) / MiB, true),
      target: { kind: 'below', value: 64, unit: 'MiB' },
    },
    {
      label: `${large}: throughput`,
      unit: 'MiB/s',
      decimals: 1,
      ...both('large', (r) => r.load.bytes / MiB / r.load.seconds),
    },
  ];
}

function notes(): string {
  const out: string[] = [];
  const one = figure('one', 'sink', rate);
  const four = figure('four', 'sink', rate);
  if (one !== undefined && four !== undefined) {
    out.push(
      `ceiling — the same load against the bench's bare sink (no parsing, no message stream): ` +
        `${fmt(one, 0)} msg/s over 1 conn, ${fmt(four, 0)} msg/s over 4`,
    );
  }
  const busiest = (name: Scenario) => {
    const shares = runs.filter((r) => r.scenario === name && r.server !== 'sink').map(loadShare);
    return shares.length > 0 ? fmt(Math.max(...shares) * 100, 0) : 'n/a';
  };
  out.push(
    `load process CPU against the servers, busiest round: ${busiest('one')}% of its core (1 conn), ` +
      `${busiest('four')}% (4 conns)`,
  );
  for (const server of SERVERS) {
    const tls = new Set(
      runs.filter((r) => r.server === server).map((r) => `${r.load.tls.version} ${r.load.tls.cipher}`),
    );
    if (tls.size > 0) out.push(`TLS negotiated with ${server}: ${[...tls].join(', ')}`);
  }
  out.push(
    PINNING
      ? `server pinned to CPU ${SERVER_CPU}, load to CPU ${LOAD_CPU} (taskset)`
      : 'no CPU pinning (taskset missing or one CPU)',
  );
  for (const failure of failures) out.push(`error: ${failure}`);
  return `${out.join('\n')}\n`;
}

function smtpServerVersion(): string {
  try {
    const manifest = new URL('../node_modules/smtp-server/package.json', import.meta.url);
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  process.stdout.write(
    `Postern SmtpServer vs smtp-server ${smtpServerVersion()}${flags.quick ? ' (quick)' : ''}\n\n`,
  );
  const pem = await certificate();
  const only = flags.only?.split(',');
  const wanted = (names: Scenario[]) => names.filter((n) => !only || only.includes(n));
  const servers: Served[] = flags.server ? SERVERS.filter((s) => s === flags.server) : [...SERVERS, 'sink'];
  for (let round = 1; round <= plan.rounds; round++) {
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const names of [wanted(['one', 'four']), wanted(['idle']), wanted(['large'])]) {
      if (names.length === 0) continue;
      // The sink is only the msg/s ceiling: it keeps no message stream that the memory figures could show.
      const rates = names.every((n) => n === 'one' || n === 'four');
      for (const served of order) if (served !== 'sink' || rates) await group(served, round, pem, names);
    }
  }
  const table = rows();
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\n${formatServerTable(table)}\n\n${notes()}`);
  process.stdout.write(
    `medians of ${plan.rounds} rounds (RSS growth of the large message: worst round); total ${fmt(seconds, 0)} s\n`,
  );
  if (flags.json) {
    const report = {
      date: new Date().toISOString(),
      quick: flags.quick,
      plan,
      seconds,
      table: table.map((row) => ({
        scenario: row.label.trim(),
        unit: row.unit,
        smtpServer: row.smtpServer ?? null,
        postern: row.postern ?? null,
        ratio: serverRatio(row) ?? null,
        target: serverTargetText(row.target),
        result: serverVerdict(row),
      })),
      runs,
    };
    writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`figures written to ${flags.json}\n`);
  }
  if (failures.length > 0) process.exitCode = 1;
}

await main();
