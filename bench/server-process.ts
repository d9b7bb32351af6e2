/**
 * The server benchmark's child processes, seen from the parent: a line protocol over stdin/stdout, each
 * child optionally pinned to one CPU (taskset, so the server and the load each keep a core), and the
 * server's memory and CPU read from /proc — from outside, so measuring costs the server nothing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const TSX = import.meta.resolve('tsx');
/** USER_HZ: /proc/PID/stat counts CPU time in ticks of 1/100 s on Linux. */
const TICKS_PER_SECOND = 100;

/** taskset when it exists and there are at least two CPUs; otherwise children share the CPUs freely. */
export const PINNING: boolean =
  availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

export class ChildLines {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiter: ((line: string | undefined) => void) | undefined;
  #exited = false;
  #stderr = '';

  /** Runs `node --import tsx [nodeFlags] script` (on `cpu` when pinning), with `env` added. */
  constructor(script: string, o: { cpu?: number; nodeFlags?: string[]; env?: Record<string, string> } = {}) {
    const node = [process.execPath, ...(o.nodeFlags ?? []), '--import', TSX, script];
    const [command, ...args] =
      PINNING && o.cpu !== undefined ? ['taskset', '-c', String(o.cpu), ...node] : node;
    this.#child = spawn(command!, args, {
      env: { ...process.env, ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.on('data', (text: string) => {
      buffered += text;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        this.#push(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-4000);
    });
    this.#child.once('exit', () => {
      this.#exited = true;
      this.#waiter?.(undefined);
      this.#waiter = undefined;
    });
  }

  /** The pid of node itself (taskset execs it, so the pid stays the same). */
  get pid(): number {
    return this.#child.pid!;
  }

  #push(line: string): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter(line);
    } else {
      this.#lines.push(line);
    }
  }

  send(line: string): void {
    this.#child.stdin!.write(`${line}\n`);
  }

  /** The next stdout line starting with `prefix` (other lines are skipped), without the prefix. */
  async expect(prefix: string, timeoutMs = 120_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line =
        this.#lines.shift() ??
        (this.#exited
          ? undefined
          : await new Promise<string | undefined>((resolve) => {
              const timer = setTimeout(
                () => {
                  this.#waiter = undefined;
                  resolve(undefined);
                },
                Math.max(1, deadline - Date.now()),
              );
              this.#waiter = (value) => {
                clearTimeout(timer);
                resolve(value);
              };
            }));
      if (line === undefined) {
        const why = this.#exited ? `exited (${this.#child.exitCode ?? this.#child.signalCode})` : 'timed out';
        throw new Error(
          `child ${why} before "${prefix}": ${this.#stderr.trim().split('\n').slice(-5).join(' | ')}`,
        );
      }
      if (line.startsWith(prefix)) return line.slice(prefix.length);
    }
  }

  /** Closes stdin (the child's cue to exit), then kills it by its pid if it does not go. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resident set size of a process, in bytes. */
export function rssOf(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** The peak RSS since the last resetPeakRss (or the start), in bytes. */
export function peakRssOf(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Sets VmHWM back to the current RSS (Linux ≥ 4.0, writing "5" to clear_refs). False where not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU time a process used so far (all its threads), in milliseconds. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "pid (comm) ": state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}
