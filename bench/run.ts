/**
 * `npm run bench`: Postern's SMTP client beside nodemailer against the same sink server, in one run.
 *
 *   a. 2,000 × 1 KB messages over one pooled STARTTLS connection, all started at once (DATA, and BDAT)
 *   b. 300 messages one after another, each on a fresh STARTTLS + AUTH PLAIN connection
 *   c. one 100 MiB message from a stream, against raw node:tls throughput over the same loopback
 *
 * The sink runs in its own process; each measurement runs in a fresh worker process (with a warm-up), and
 * the clients take turns going first. Options: --quick (small counts, one round), --json FILE, --client-only
 * (this part alone).
 *
 * Then composition (bench/compose.ts), the server (bench/server-run.ts: Postern's SmtpServer beside
 * smtp-server; with --json FILE its figures go to FILE-server.json) and the audit (bench/audit.ts: `postern
 * audit` beside testssl.sh on one Postfix port; FILE-audit.json).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClientKind, ClientSettings } from './clients.js';
import {
  buildRows,
  floorRate,
  type Outcome,
  type Results,
  type Runner,
  type StreamRunner,
} from './figures.js';
import { FULL, MiB, type Plan, QUICK } from './plan.js';
import {
  describeMachine,
  formatTable,
  isMissing,
  type Missing,
  type Row,
  ratio,
  targetText,
  verdict,
} from './report.js';
import { delta, type SinkProcess, startSinkWithCa } from './sink-process.js';
import type { SinkCounters } from './sink-server.js';
import { runWorker } from './spawn-worker.js';
import type { Job, Measurement } from './worker.js';

const AUTH = { user: 'bench@example.test', pass: 'bench-password' };
const BOTH: readonly ClientKind[] = ['nodemailer', 'postern'];

/** One worker's measurement with what the sink counted meanwhile (kept for --json and the notes). */
interface Run {
  readonly scenario: string;
  readonly round: number;
  readonly client: Runner;
  readonly result: Measurement;
  readonly sink: SinkCounters;
}

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    'client-only': { type: 'boolean', default: false },
  },
});
const plan: Plan = flags.quick ? QUICK : FULL;
const runs: Run[] = [];
/** Set once Postern's module fails to load: later Postern jobs are skipped with the same answer. */
let posternUnavailable: Missing | undefined;

async function measure(
  sink: SinkProcess,
  listener: string,
  scenario: string,
  round: number,
  job: Job,
): Promise<Outcome> {
  if (job.client === 'postern' && posternUnavailable) return posternUnavailable;
  const before = await sink.stats();
  const outcome = await runWorker(job);
  const counters = delta(before[listener]!, (await sink.stats())[listener]!);
  if ('status' in outcome) {
    log(scenario, round, job.client, `${outcome.status}: ${outcome.detail}`);
    return outcome;
  }
  if (!outcome.ok) {
    const missing: Missing = {
      status: outcome.stage === 'load' ? 'pending' : 'error',
      detail: outcome.error,
    };
    if (job.client === 'postern' && outcome.stage === 'load') posternUnavailable = missing;
    log(scenario, round, job.client, `${missing.status}: ${outcome.error}`);
    return missing;
  }
  runs.push({ scenario, round, client: job.client, result: outcome, sink: counters });
  // The sink's count proves the client delivered what it claims (warm-up included).
  const expected = job.scenario === 'stream' ? 2 : job.messages + job.warmup;
  if (counters.messages !== expected) {
    log(
      scenario,
      round,
      job.client,
      `warning: the sink counted ${counters.messages} messages, not ${expected}`,
    );
  }
  log(scenario, round, job.client, summary(outcome, counters));
  return outcome;
}

function summary(m: Measurement, sink: SinkCounters): string {
  const parts =
    m.rssGrowth === undefined
      ? [`${fmt(m.messages / m.seconds, 0)} msg/s`, `cpu ${fmt(m.cpuMs / m.messages, 3)} ms/msg`]
      : [`${fmt(m.bytes / MiB / m.seconds, 1)} MiB/s`, `rss +${fmt(m.rssGrowth / MiB, 1)} MiB`];
  if (m.methods.length > 0) parts.push(m.methods.join('+'));
  parts.push(`sink: ${sink.connections} conn, ${sink.resumed}/${sink.tlsHandshakes} TLS resumed`);
  return parts.join(', ');
}

function fmt(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function log(scenario: string, round: number, client: Runner, text: string): void {
  process.stdout.write(`  ${scenario.padEnd(10)} round ${round}  ${client.padEnd(10)}  ${text}\n`);
}

/** Clients in the order they go in `round`: the first one changes every round. */
function order<T>(clients: readonly T[], round: number): T[] {
  const shift = round % clients.length;
  return [...clients.slice(shift), ...clients.slice(0, shift)];
}

async function scenarioMessages<K extends ClientKind | 'floor'>(
  sink: SinkProcess,
  name: string,
  listener: string,
  kind: 'pooled' | 'fresh',
  settings: Omit<ClientSettings, 'port'>,
  clients: readonly K[],
): Promise<Record<K, Outcome[]>> {
  const counts = kind === 'pooled' ? plan.pooled : plan.fresh;
  const outcomes = Object.fromEntries(clients.map((c) => [c, [] as Outcome[]])) as Record<K, Outcome[]>;
  for (let round = 0; round < plan.rounds; round++) {
    for (const client of order<K>(clients, round)) {
      const job: Job = {
        scenario: kind,
        client: client as ClientKind,
        settings: { ...settings, port: sink.port(listener) },
        ...counts,
      };
      outcomes[client].push(await measure(sink, listener, name, round + 1, job));
    }
  }
  return outcomes;
}

async function scenarioStream(sink: SinkProcess, ca: string): Promise<Record<StreamRunner, Outcome[]>> {
  const outcomes: Record<StreamRunner, Outcome[]> = { raw: [], nodemailer: [], postern: [] };
  for (let round = 0; round < plan.stream.rounds; round++) {
    for (const client of order<StreamRunner>(['raw', 'nodemailer', 'postern'], round)) {
      const listener = client === 'raw' ? 'discard' : 'starttls';
      const settings: ClientSettings = { port: sink.port(listener), tls: 'starttls', ca, pooled: false };
      const job: Job = { scenario: 'stream', client, settings, ...plan.stream };
      outcomes[client].push(await measure(sink, listener, 'c stream', round + 1, job));
    }
  }
  return outcomes;
}

function startSink(): Promise<{ sink: SinkProcess; ca: string }> {
  return startSinkWithCa([
    { name: 'starttls', mode: 'starttls' },
    { name: 'starttls+chunking', mode: 'starttls', chunking: true },
    { name: 'discard', mode: 'discard' },
  ]);
}

async function main(): Promise<void> {
  const started = Date.now();
  const machine = describeMachine();
  process.stdout.write(
    `Postern vs nodemailer ${machine.nodemailer} — ${machine.cpuModel}, ${machine.cpus} CPUs, ` +
      `Node ${machine.node}, OpenSSL ${machine.openssl}${flags.quick ? ' (quick)' : ''}\n\n`,
  );
  const { sink, ca } = await startSink();
  let results: Results;
  try {
    const tls = { tls: 'starttls', ca, pooled: true } as const;
    results = {
      pooledData: await scenarioMessages(sink, 'a DATA', 'starttls', 'pooled', { ...tls, chunking: false }, [
        'nodemailer',
        'postern',
        'floor',
      ]),
      pooledChunking: await scenarioMessages(sink, 'a BDAT', 'starttls+chunking', 'pooled', tls, BOTH),
      fresh: await scenarioMessages(
        sink,
        'b fresh',
        'starttls',
        'fresh',
        { ...tls, pooled: false, auth: AUTH },
        BOTH,
      ),
      stream: await scenarioStream(sink, ca),
    };
  } finally {
    await sink.stop();
  }
  const rows = buildRows(plan, results);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\n${formatTable(rows)}\n\n${notes(rows, results)}`);
  process.stdout.write(
    `\nmedians of ${plan.rounds} rounds in a and b, ${plan.stream.rounds} in c (RSS: worst round); ` +
      `total ${fmt(seconds, 0)} s\n`,
  );
  if (flags.json) {
    const table = rows.map((row) => ({
      scenario: row.label,
      unit: row.unit,
      nodemailer: row.nodemailer ?? null,
      postern: row.postern,
      ratio: ratio(row) ?? null,
      target: targetText(row.target),
      result: verdict(row),
    }));
    const report = {
      date: new Date().toISOString(),
      quick: flags.quick,
      machine,
      plan,
      seconds,
      table,
      runs,
    };
    writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`figures written to ${flags.json}\n`);
  }
  if (flags['client-only']) return;
  // Composition (issue 3): Postern's compose() beside nodemailer's MailComposer, each in its own process.
  process.stdout.write('\n── composition ──\n');
  const composeBench = fileURLToPath(new URL('./compose.ts', import.meta.url));
  const composed = spawnSync(
    process.execPath,
    ['--import', 'tsx', composeBench, ...(flags.quick ? ['--quick'] : [])],
    { stdio: 'inherit' },
  );
  if (composed.status !== 0) process.exitCode = 1;
  process.stdout.write('\n── DKIM body hash ──\n');
  const dkim = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./dkim.ts', import.meta.url))],
    { stdio: 'inherit' },
  );
  if (dkim.status !== 0) process.exitCode = 1;
  // The server (issue 4): Postern's SmtpServer beside smtp-server under one fixed load, each in its own process.
  process.stdout.write('\n── server ──\n');
  const serverBench = fileURLToPath(new URL('./server-run.ts', import.meta.url));
  const serverJson = flags.json ? ['--json', flags.json.replace(/(\.json)?$/, '-server.json')] : [];
  const served = spawnSync(
    process.execPath,
    ['--import', 'tsx', serverBench, ...(flags.quick ? ['--quick'] : []), ...serverJson],
    { stdio: 'inherit' },
  );
  if (served.status !== 0) process.exitCode = 1;
  // The audit (issue 6): `postern audit` beside testssl.sh on the same Postfix port.
  process.stdout.write('\n── audit ──\n');
  const auditBench = fileURLToPath(new URL('./audit.ts', import.meta.url));
  const auditJson = flags.json ? ['--json', flags.json.replace(/(\.json)?$/, '-audit.json')] : [];
  const audited = spawnSync(
    process.execPath,
    ['--import', 'tsx', auditBench, ...(flags.quick ? ['--quick'] : []), ...auditJson],
    { stdio: 'inherit' },
  );
  if (audited.status !== 0) process.exitCode = 1;
}

/** Lines under the table: why a Postern figure is missing, TLS resumption in b, the RSS floor in c. */
function notes(rows: readonly Row[], results: Results): string {
  const out: string[] = [];
  const floor = floorRate(results);
  const data = rows[0];
  if (floor !== undefined && data) {
    const nm = data.nodemailer;
    const mine = isMissing(data.postern) ? undefined : data.postern;
    out.push(
      `a. protocol floor with DATA (bench/floor.ts: no SMTP library, one round trip per message): ${fmt(floor, 0)} msg/s` +
        (nm ? ` = ${fmt(floor / nm, 2)}× nodemailer` : '') +
        (mine ? `; Postern reaches ${fmt((mine / floor) * 100, 0)}% of it` : ''),
    );
  }
  const reasons = new Set(
    rows.flatMap((r) => (isMissing(r.postern) ? [`${r.postern.status}: ${r.postern.detail}`] : [])),
  );
  for (const reason of reasons) out.push(`Postern ${reason}`);
  for (const client of ['nodemailer', 'postern'] as const) {
    const mine = runs.filter((r) => r.scenario === 'b fresh' && r.client === client);
    if (mine.length === 0) continue;
    const resumed = mine.reduce((s, r) => s + r.sink.resumed, 0);
    const handshakes = mine.reduce((s, r) => s + r.sink.tlsHandshakes, 0);
    out.push(
      `b. TLS sessions resumed, as the sink saw them: ${client} ${resumed} of ${handshakes} handshakes`,
    );
  }
  const rawRss = runs
    .filter((r) => r.scenario === 'c stream' && r.client === 'raw')
    .map((r) => (r.result.rssGrowth ?? 0) / MiB);
  if (rawRss.length > 0) {
    out.push(
      `c. RSS growth of the raw node:tls writer (generator and TLS alone): ${fmt(Math.max(...rawRss), 1)} MiB`,
    );
  }
  const methods = new Set(
    runs.filter((r) => r.scenario === 'a BDAT' && r.client === 'postern').flatMap((r) => r.result.methods),
  );
  if (methods.size > 0) out.push(`a. with CHUNKING offered Postern used: ${[...methods].join(', ')}`);
  out.push(
    `(${plan.pooled.warmup} / ${plan.fresh.warmup} warm-up messages per worker in a / b, not counted)`,
  );
  return `${out.join('\n')}\n`;
}

await main();
