/**
 * The fixed client load of the server benchmark, in its own process (started by server-run.ts, pinned to
 * the CPU the server does not use). The job arrives as JSON in BENCH_LOAD; the result leaves as one
 * `RESULT {json}` line. The same load runs against both servers.
 *
 * - messages: N × 1 KB over C STARTTLS connections at once, after a warm-up on the same connections; the
 *   clock starts once every connection is open and warm, so connection setup (and smtp-server's fixed
 *   100 ms wait before its greeting) is not in the figure.
 * - idle: C connections opened (STARTTLS, EHLO), reported with `OPEN n`, held until a `close` line on stdin.
 * - large: one message of about `bytes` octets (whole 78-octet lines, 64 KiB writes), after a small one.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createSecureContext, type SecureContext } from 'node:tls';
import { smallMessage } from './messages.js';
import { RawSmtpClient, type TlsSummary } from './server-smtp-client.js';

export type LoadJob =
  | {
      readonly kind: 'messages';
      readonly port: number;
      readonly ca: string;
      readonly connections: number;
      /** Measured messages in total, split evenly over the connections. */
      readonly messages: number;
      /** Warm-up messages per connection, not measured. */
      readonly warmup: number;
      readonly size: number;
    }
  | {
      readonly kind: 'idle';
      readonly port: number;
      readonly ca: string;
      readonly connections: number;
      /** Connections being opened at once. */
      readonly concurrency: number;
    }
  | { readonly kind: 'large'; readonly port: number; readonly ca: string; readonly bytes: number };

export interface LoadResult {
  readonly ok: true;
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
  /** CPU of this (load) process during the measured part. */
  readonly cpuMs: number;
  readonly connections: number;
  readonly tls: TlsSummary;
}

export type LoadOutcome = LoadResult | { readonly ok: false; readonly error: string };

const LINE = `${'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-=+_!@#$%^&*()[]{}'.slice(0, 76)}\r\n`;
const CHUNK = Buffer.from(LINE.repeat(Math.floor((64 * 1024) / LINE.length)));

async function openAll(port: number, context: SecureContext, count: number, concurrency: number) {
  const clients: RawSmtpClient[] = [];
  let next = 0;
  const opener = async () => {
    while (next < count) {
      next++;
      clients.push(await RawSmtpClient.open(port, context));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, opener));
  return clients;
}

async function timed(work: () => Promise<void>): Promise<{ seconds: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuMs: (used.user + used.system) / 1000 };
}

async function runMessages(job: Extract<LoadJob, { kind: 'messages' }>, context: SecureContext) {
  const message = Buffer.from(smallMessage(job.size));
  const clients = await openAll(job.port, context, job.connections, job.connections);
  await Promise.all(clients.map((c) => c.sendMany(message, job.warmup)));
  const each = Math.ceil(job.messages / job.connections);
  // The parent reads the server's CPU time at these two marks.
  process.stdout.write('START\n');
  const run = await timed(async () => {
    await Promise.all(clients.map((c) => c.sendMany(message, each)));
  });
  process.stdout.write('END\n');
  const tls = clients[0]!.tls;
  await Promise.all(clients.map((c) => c.quit()));
  const messages = each * clients.length;
  return { ...run, messages, bytes: messages * job.size, connections: clients.length, tls };
}

async function runIdle(job: Extract<LoadJob, { kind: 'idle' }>, context: SecureContext) {
  let clients: RawSmtpClient[] = [];
  const run = await timed(async () => {
    clients = await openAll(job.port, context, job.connections, job.concurrency);
  });
  process.stdout.write(`OPEN ${clients.length}\n`);
  // Held open until the parent has measured the server.
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === 'close') break;
  const tls = clients[0]!.tls;
  for (const c of clients) c.destroy();
  return { ...run, messages: 0, bytes: 0, connections: clients.length, tls };
}

async function runLarge(job: Extract<LoadJob, { kind: 'large' }>, context: SecureContext) {
  const [client] = await openAll(job.port, context, 1, 1);
  // Warm-up: a 2 MiB message over the same connection, so the figure is not the first JIT pass.
  await client!.sendLarge(CHUNK, Math.ceil((2 * 1024 * 1024) / CHUNK.length));
  const chunks = Math.ceil(job.bytes / CHUNK.length);
  const cpu = process.cpuUsage();
  const seconds = await client!.sendLarge(CHUNK, chunks);
  const used = process.cpuUsage(cpu);
  const tls = client!.tls;
  await client!.quit();
  return {
    seconds,
    cpuMs: (used.user + used.system) / 1000,
    messages: 1,
    bytes: chunks * CHUNK.length,
    connections: 1,
    tls,
  };
}

async function main(): Promise<LoadOutcome> {
  const job = JSON.parse(process.env['BENCH_LOAD'] ?? '') as LoadJob;
  const context = createSecureContext({ ca: job.ca });
  try {
    switch (job.kind) {
      case 'messages':
        return { ok: true, ...(await runMessages(job, context)) };
      case 'idle':
        return { ok: true, ...(await runIdle(job, context)) };
      case 'large':
        return { ok: true, ...(await runLarge(job, context)) };
    }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

const outcome = await main();
process.stdout.write(`RESULT ${JSON.stringify(outcome)}\n`);
process.exit(0);
