/**
 * Starts bench/sink-server.ts in a child process and talks to it over stdin/stdout: ports once ready,
 * counters on request. The child is ours alone; stop() ends it by closing its stdin, then by its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SinkConfig, SinkCounters, SinkListener } from './sink-server.js';

const SINK_SCRIPT = fileURLToPath(new URL('./sink-server.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export class SinkProcess {
  readonly ports: Readonly<Record<string, number>>;
  readonly #child: ChildProcess;
  readonly #waiting: ((line: string) => void)[];

  private constructor(
    child: ChildProcess,
    ports: Record<string, number>,
    waiting: ((line: string) => void)[],
  ) {
    this.#child = child;
    this.ports = ports;
    this.#waiting = waiting;
  }

  static async start(config: SinkConfig): Promise<SinkProcess> {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SINK_SCRIPT], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const waiting: ((line: string) => void)[] = [];
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      buffered += text;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        waiting.shift()?.(line);
      }
    });
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the sink did not report READY in time')),
        START_TIMEOUT_MS,
      );
      child.once('exit', (code) => reject(new Error(`the sink exited early (code ${code})`)));
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
    child.stdin!.write(`${JSON.stringify(config)}\n`);
    const line = await ready;
    if (!line.startsWith('READY ')) throw new Error(`unexpected sink output: ${line}`);
    return new SinkProcess(child, JSON.parse(line.slice(6)) as Record<string, number>, waiting);
  }

  port(name: string): number {
    const port = this.ports[name];
    if (port === undefined) throw new Error(`the sink has no listener named ${name}`);
    return port;
  }

  /** Counters per listener since the sink started. */
  async stats(): Promise<Record<string, SinkCounters>> {
    const line = await new Promise<string>((resolve) => {
      this.#waiting.push(resolve);
      this.#child.stdin!.write('stats\n');
    });
    if (!line.startsWith('STATS ')) throw new Error(`unexpected sink output: ${line}`);
    return JSON.parse(line.slice(6)) as Record<string, SinkCounters>;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Counter differences between two stats() snapshots for one listener. */
export function delta(before: SinkCounters, after: SinkCounters): SinkCounters {
  return {
    connections: after.connections - before.connections,
    tlsHandshakes: after.tlsHandshakes - before.tlsHandshakes,
    resumed: after.resumed - before.resumed,
    messages: after.messages - before.messages,
    bytes: after.bytes - before.bytes,
  };
}

/**
 * The sink with a fresh certificate for localhost/127.0.0.1 and its CA (PEM, for the clients to trust), made with
 * Postern's public API (or, while the client half does not load, its tls module).
 */
export async function startSinkWithCa(
  listeners: readonly SinkListener[],
): Promise<{ sink: SinkProcess; ca: string }> {
  const pki = await import('../src/index.js').catch(() => import('../src/tls/index.js'));
  const ca = await pki.createCa({ commonName: 'Postern bench CA', days: 2 });
  const leaf = await pki.createCertificate({
    commonName: 'localhost',
    altNames: ['DNS:localhost', 'IP:127.0.0.1'],
    issuer: ca,
    days: 2,
  });
  const sink = await SinkProcess.start({ cert: leaf.cert, key: leaf.key, listeners });
  return { sink, ca: ca.cert };
}
