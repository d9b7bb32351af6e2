/**
 * One measurement of the server benchmark: a server process (Target) under one run of the load
 * (server-load.ts), with the server's CPU and memory read from /proc meanwhile.
 */
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadOutcome, LoadResult } from './server-load.js';
import { ChildLines, cpuMsOf, peakRssOf, resetPeakRss, rssOf } from './server-process.js';
import type { ServerKind, TargetConfig, TargetCounters } from './server-target.js';
import type { SinkConfig, SinkCounters } from './sink-server.js';

const TARGET = fileURLToPath(new URL('./server-target.ts', import.meta.url));
const SINK = fileURLToPath(new URL('./sink-server.ts', import.meta.url));
const LOAD = fileURLToPath(new URL('./server-load.ts', import.meta.url));
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

/** What serves the load: one of the two servers, or the bench's bare sink (the ceiling, msg/s only). */
export type Served = ServerKind | 'sink';

export interface Pem {
  readonly cert: string;
  readonly key: string;
  /** The CA that signed `cert`, for the load to verify it. */
  readonly ca: string;
}

/** A server process: Postern or smtp-server (server-target.ts), or the bare sink (sink-server.ts). */
export class Target {
  readonly #child: ChildLines;
  readonly #served: Served;
  port = 0;

  private constructor(served: Served, profileDir: string | undefined) {
    this.#served = served;
    const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const script = served === 'sink' ? SINK : TARGET;
    this.#child = new ChildLines(script, { cpu: SERVER_CPU, nodeFlags: ['--expose-gc', ...profile] });
  }

  /** Starts `served` on a free loopback port; `profileDir` adds node --cpu-prof. */
  static async start(served: Served, pem: Pem, profileDir?: string): Promise<Target> {
    const target = new Target(served, profileDir);
    if (served === 'sink') {
      const config: SinkConfig = {
        cert: pem.cert,
        key: pem.key,
        listeners: [{ name: 'smtp', mode: 'starttls' }],
      };
      target.#child.send(JSON.stringify(config));
      const ports = JSON.parse(await target.#child.expect('READY ', 30_000)) as Record<string, number>;
      target.port = ports['smtp']!;
    } else {
      const config: TargetConfig = { server: served, cert: pem.cert, key: pem.key };
      target.#child.send(JSON.stringify(config));
      target.port = Number(await target.#child.expect('READY ', 30_000));
    }
    return target;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Two full garbage collections in the server (not offered by the sink, which is never asked). */
  async gc(): Promise<void> {
    this.#child.send('gc');
    await this.#child.expect('GC');
  }

  async counters(): Promise<TargetCounters> {
    this.#child.send('stats');
    const stats = JSON.parse(await this.#child.expect('STATS ')) as unknown;
    return this.#served === 'sink'
      ? (stats as Record<string, SinkCounters>)['smtp']!
      : (stats as TargetCounters);
  }

  stop(): Promise<void> {
    return this.#child.stop();
  }
}

function startLoad(job: LoadJob): ChildLines {
  return new ChildLines(LOAD, { cpu: LOAD_CPU, env: { BENCH_LOAD: JSON.stringify(job) } });
}

async function result(load: ChildLines): Promise<LoadResult> {
  const outcome = JSON.parse(await load.expect('RESULT ')) as LoadOutcome;
  await load.stop();
  if (!outcome.ok) throw new Error(outcome.error);
  return outcome;
}

export interface Measured {
  readonly load: LoadResult;
  /** Server CPU (ms) during the measured part (messages). */
  readonly serverCpuMs?: number;
  /** Server RSS growth in bytes: per connection (idle), or peak over the baseline (large). */
  readonly rssGrowth?: number;
  /** Messages the server counted during the whole load run, warm-up included. */
  readonly messagesCounted?: number;
}

/** msg/s over `connections`; the server's CPU is read at the load's START and END marks. */
export async function measureMessages(
  target: Target,
  ca: string,
  job: { connections: number; messages: number; warmup: number; size: number },
): Promise<Measured> {
  const before = await target.counters();
  const load = startLoad({ kind: 'messages', port: target.port, ca, ...job });
  await load.expect('START');
  const cpu = cpuMsOf(target.pid);
  await load.expect('END');
  const serverCpuMs = cpuMsOf(target.pid) - cpu;
  const res = await result(load);
  const after = await target.counters();
  return { load: res, serverCpuMs, messagesCounted: after.messages - before.messages };
}

/** RSS per connection: after a GC with `connections` idle TLS sessions open, minus after a GC before. */
export async function measureIdle(
  target: Target,
  ca: string,
  job: { connections: number; concurrency: number },
): Promise<Measured> {
  await target.gc();
  const baseline = rssOf(target.pid);
  const load = startLoad({ kind: 'idle', port: target.port, ca, ...job });
  const open = Number(await load.expect('OPEN '));
  await target.gc();
  const growth = (rssOf(target.pid) - baseline) / open;
  load.send('close');
  return { load: await result(load), rssGrowth: growth };
}

/** Peak RSS during one large message over the RSS after a GC before it. */
export async function measureLarge(target: Target, ca: string, job: { bytes: number }): Promise<Measured> {
  await target.gc();
  const pid = target.pid;
  const baseline = rssOf(pid);
  // VmHWM gives the exact peak; polling is the fallback where clear_refs cannot be written.
  const exactPeak = resetPeakRss(pid);
  let polled = baseline;
  const poll = setInterval(() => {
    polled = Math.max(polled, rssOf(pid));
  }, 10);
  try {
    const res = await result(startLoad({ kind: 'large', port: target.port, ca, ...job }));
    const peak = Math.max(polled, exactPeak ? peakRssOf(pid) : 0, rssOf(pid));
    return { load: res, rssGrowth: peak - baseline };
  } finally {
    clearInterval(poll);
  }
}
