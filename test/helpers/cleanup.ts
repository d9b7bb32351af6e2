/**
 * Last-resort cleanup for test peers, so that a failing, interrupted or killed test leaves no daemon
 * and no temp dir behind. Two layers:
 *
 * 1. `onExit(fn)`: synchronous callbacks run in-process when the test process exits (normally, after an
 *    uncaught error, or on SIGINT/SIGTERM/SIGHUP). Harnesses unregister theirs once `stop()` ran.
 * 2. `shellFallback`: a shell snippet run by a small detached "reaper" (/bin/sh, one per test process)
 *    when the test process dies without running its exit handlers (SIGKILL, e.g. from a timeout). The
 *    reaper blocks reading a pipe from the test process and runs the snippets when the pipe hits EOF.
 *    Snippets are files in the reaper's dir; unregistering deletes the file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type SyncCleanup = () => void;

const tasks = new Set<SyncCleanup>();
let installed = false;

function runAll(): void {
  // Newest first: a peer is stopped before the temp dir it lives in is removed.
  const list = [...tasks].reverse();
  tasks.clear();
  for (const fn of list) {
    try {
      fn();
    } catch {
      // best effort: one failing cleanup must not stop the others
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runAll);
  const signals: [NodeJS.Signals, number][] = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ];
  for (const [signal, code] of signals) {
    process.once(signal, () => {
      runAll();
      process.exit(code);
    });
  }
}

// The reaper: ignores signals, waits for EOF on stdin (= the test process is gone, however it died),
// then runs the remaining snippets newest first and removes its own dir. If the test process exits
// normally, its exit handlers have already deleted the snippets and the reaper only removes its dir.
const REAPER_SCRIPT = `trap '' INT TERM HUP QUIT
cat >/dev/null
for f in $(ls -r "$1" 2>/dev/null); do /bin/sh "$1/$f" >/dev/null 2>&1; done
rm -rf "$1"
`;

let reaper: { dir: string; child: ChildProcess } | undefined;
let seq = 0;

function reaperDir(): string | undefined {
  if (reaper) return reaper.dir;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'postern-reaper-'));
    const child = spawn('/bin/sh', ['-c', REAPER_SCRIPT, 'postern-reaper', dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    child.on('error', () => {});
    unrefChild(child);
    reaper = { dir, child };
    return dir;
  } catch {
    return undefined;
  }
}

/** Single-quotes `value` for /bin/sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Registers `fn` to run at process exit; returns a function that unregisters it. `shellFallback` is a
 * /bin/sh snippet that the reaper runs instead if the process is killed before `fn` could run.
 */
export function onExit(fn: SyncCleanup, shellFallback?: string): () => void {
  install();
  let file: string | undefined;
  if (shellFallback !== undefined) {
    const dir = reaperDir();
    if (dir) {
      file = join(dir, `${String(++seq).padStart(6, '0')}.sh`);
      try {
        writeFileSync(file, shellFallback);
      } catch {
        file = undefined;
      }
    }
  }
  const unregister = () => {
    tasks.delete(wrapped);
    if (file) rmSync(file, { force: true });
  };
  const wrapped = () => {
    try {
      fn();
    } finally {
      if (file) rmSync(file, { force: true });
    }
  };
  tasks.add(wrapped);
  return unregister;
}

/** Lets the test process exit while `child` (and its stdio pipes) still run. */
export function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Socket | null)?.unref?.();
}

/** Sleeps synchronously (for use inside exit handlers only). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True while a process with this pid exists (zombies count as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The field after "pid (comm)" is the state; Z = zombie, X = dead.
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** True while any process of the process group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `signal` to `pid` (a negative pid is a process group), ignoring "no such process". */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Pids of live processes whose environment holds exactly the entry `needle` (e.g.
 * `MAIL_CONFIG=/tmp/postern-postfix-x/etc`, which every daemon of a private Postfix inherits).
 * Linux only; returns [] where /proc is missing.
 */
export function pidsWithEnv(needle: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (env.includes(needle) && isAlive(pid)) found.push(pid);
    } catch {
      // gone, or not readable
    }
  }
  return found;
}

/**
 * Pids of live processes whose command line or environment contains `text` (e.g. a peer's temp dir):
 * for tests that a harness left nothing running. Linux only; [] where /proc is missing.
 */
export function pidsMentioning(text: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if ((cmdline.includes(text) || environ.includes(text)) && isAlive(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone, or not readable
    }
  }
  return found;
}
