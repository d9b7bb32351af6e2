/**
 * One measurement in a fresh process (run.ts spawns it with --expose-gc), so each client's CPU time, heap and
 * RSS are its own. The job arrives as JSON in BENCH_JOB; the result leaves as one `RESULT {json}` line.
 */
import { performance } from 'node:perf_hooks';
import { loadBuilt } from './built.js';
import { type BenchClient, type ClientKind, type ClientSettings, openClient, rawTlsSend } from './clients.js';
import { largeMessage, largeMessageSize, smallMessage } from './messages.js';

export type Job =
  | {
      /** a: every message started at once over one pooled connection; `floor`: see floor.ts. */
      readonly scenario: 'pooled';
      readonly client: ClientKind | 'floor';
      readonly settings: ClientSettings;
      readonly messages: number;
      readonly warmup: number;
      readonly size: number;
    }
  | {
      /** b: one message after another, each on a fresh connection. */
      readonly scenario: 'fresh';
      readonly client: ClientKind;
      readonly settings: ClientSettings;
      readonly messages: number;
      readonly warmup: number;
      readonly size: number;
    }
  | {
      /** c: one large message from a stream; `raw` writes the same bytes over plain node:tls. */
      readonly scenario: 'stream';
      readonly client: ClientKind | 'raw';
      readonly settings: ClientSettings;
      readonly bytes: number;
      readonly warmupBytes: number;
    };

export interface Measurement {
  readonly ok: true;
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
  /** User + system CPU of this process during the measured part. */
  readonly cpuMs: number;
  /** Peak RSS during the send minus RSS after a GC just before it (stream scenario only). */
  readonly rssGrowth?: number;
  /** Transfer methods the client reported (Postern: DATA or BDAT). */
  readonly methods: readonly string[];
}

export interface Failure {
  readonly ok: false;
  /** `load`: the client's module did not load; `run`: it failed while sending. */
  readonly stage: 'load' | 'run';
  readonly error: string;
}

export type JobResult = Measurement | Failure;

const RSS_SAMPLE_MS = 50;

async function measure<T>(work: () => Promise<T>): Promise<{ seconds: number; cpuMs: number; value: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuMs: (used.user + used.system) / 1000, value };
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the worker with --expose-gc');
  gc();
  gc();
}

async function sendAll(client: BenchClient, count: number, message: string): Promise<string[]> {
  const outcomes = await Promise.all(Array.from({ length: count }, () => client.send(message)));
  return outcomes.map((o) => o.method ?? '');
}

async function sendEach(client: BenchClient, count: number, message: string): Promise<string[]> {
  const methods: string[] = [];
  for (let i = 0; i < count; i++) methods.push((await client.send(message)).method ?? '');
  return methods;
}

async function runMessages(job: Extract<Job, { scenario: 'pooled' | 'fresh' }>): Promise<Measurement> {
  const message = smallMessage(job.size);
  const send = job.scenario === 'pooled' ? sendAll : sendEach;
  // Warm-up on its own client, so the measured one starts cold on the network side (no pooled connection,
  // no cached TLS session) but with compiled code.
  const warm = await openClient(job.client, job.settings);
  await send(warm, job.warmup, message);
  await warm.close();
  collectGarbage();
  const run = await measure(async () => {
    const client = await openClient(job.client, job.settings);
    const methods = await send(client, job.messages, message);
    return { client, methods };
  });
  await run.value.client.close();
  return {
    ok: true,
    messages: job.messages,
    bytes: job.messages * job.size,
    seconds: run.seconds,
    cpuMs: run.cpuMs,
    methods: [...new Set(run.value.methods)].filter(Boolean),
  };
}

async function runStream(job: Extract<Job, { scenario: 'stream' }>): Promise<Measurement> {
  const size = largeMessageSize(job.bytes);
  const kind = job.client;
  const client = kind === 'raw' ? undefined : await openClient(kind, job.settings);
  const sendOne = async (bytes: number): Promise<string> => {
    if (!client) {
      await rawTlsSend(job.settings.port, job.settings.ca, largeMessageSize(bytes), largeMessage(bytes));
      return '';
    }
    return (await client.send(largeMessage(bytes))).method ?? '';
  };
  await sendOne(job.warmupBytes);
  collectGarbage();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  try {
    const run = await measure(() => sendOne(job.bytes));
    peak = Math.max(peak, process.memoryUsage.rss());
    return {
      ok: true,
      messages: 1,
      bytes: size,
      seconds: run.seconds,
      cpuMs: run.cpuMs,
      rssGrowth: peak - baseline,
      methods: run.value ? [run.value] : [],
    };
  } finally {
    clearInterval(sampler);
    await client?.close();
  }
}

async function main(): Promise<JobResult> {
  const job = JSON.parse(process.env['BENCH_JOB'] ?? '') as Job;
  // Postern's pool unrefs idle sockets, and close() then QUITs on them: with no other handle the process could
  // exit (code 13) before close() settles. A real application has other handles; this stands in for them.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    return await runJob(job);
  } finally {
    clearInterval(keepAlive);
  }
}

async function runJob(job: Job): Promise<JobResult> {
  if (job.client === 'postern') {
    try {
      await loadBuilt('index.js');
    } catch (err) {
      return { ok: false, stage: 'load', error: describe(err) };
    }
  }
  try {
    return job.scenario === 'stream' ? await runStream(job) : await runMessages(job);
  } catch (err) {
    return { ok: false, stage: 'run', error: describe(err) };
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return `${err.name}${code ? ` [${String(code)}]` : ''}: ${err.message}`;
}

const result = await main();
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
// Pools and sockets the clients left open must not keep the measurement alive.
process.exit(0);
