/**
 * Starts a Python test server (Debian's /usr/bin/python3, which has the python3-* packages) that prints
 * "READY <port>" once it listens, and stops it again — also when the test process exits without stop().
 * Used by aiosmtpd.ts and dns-server.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { isAlive, onExit, signalPid, sleepSync, unrefChild } from './cleanup.js';
import { SYSTEM_PYTHON } from './peers.js';

export interface PythonServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the server printed so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM (SIGKILL after 3 s) and waits for the exit; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Spawns `python3 script ...args`; resolves once it prints "READY <port>", rejects (with its output) when it
 * exits first or takes longer than `timeoutMs`. `onStop` runs after the server is gone (e.g. to remove its folder).
 */
export async function startPythonServer(
  name: string,
  script: string,
  args: readonly string[],
  opts: { timeoutMs?: number; onStop?: () => Promise<void> } = {},
): Promise<PythonServer> {
  // stdin is a pipe the server watches: when this process dies, however, the server exits.
  const child: ChildProcess = spawn(SYSTEM_PYTHON, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  // The server never keeps the test process alive: a forgotten stop() must not hang the test run
  // (the exit handler and the stdin watch still stop the server).
  unrefChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const unregister = onExit(() => {
    if (child.pid && isAlive(child.pid)) {
      signalPid(child.pid, 'SIGTERM');
      for (let i = 0; i < 50 && isAlive(child.pid); i++) sleepSync(20);
      signalPid(child.pid, 'SIGKILL');
    }
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      stderr += String(err);
      resolve();
    });
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.ref(); // unref'd at start; keep the event loop alive until the exit arrives
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    unregister();
    await opts.onStop?.();
  };

  const port = await new Promise<number>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const fail = (why: string) => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      reject(new Error(`${name}: ${why}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no READY line within ${timeoutMs} ms`), timeoutMs);
    const check = () => {
      const m = /^READY (\d+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => fail(`server exited during startup (code ${child.exitCode})`));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  return { child, port, stdout: () => stdout, stderr: () => stderr, stop };
}
