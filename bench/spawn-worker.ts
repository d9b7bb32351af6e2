/**
 * Runs one measurement job in a fresh worker process (bench/worker.ts, with --expose-gc) and reads its result.
 * A worker that outlives its time limit is killed by its pid and reported as a hang.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Missing } from './report.js';
import type { Job, JobResult } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const MiB = 1024 * 1024;

/** Generous: a limit only exists to turn a hang into a reported figure instead of a stuck run. */
function timeoutFor(job: Job): number {
  if (job.scenario === 'stream') return 60_000 + (job.bytes / MiB) * 1_000;
  return 60_000 + job.messages * (job.scenario === 'fresh' ? 100 : 10);
}

export function runWorker(job: Job): Promise<JobResult | Missing> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', TSX, WORKER], {
      env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const limit = timeoutFor(job);
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limit);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (hung) {
        resolve({ status: 'hang', detail: `no result after ${limit / 1000} s; worker killed` });
        return;
      }
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) {
        resolve(JSON.parse(line.slice('RESULT '.length)) as JobResult);
        return;
      }
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      resolve({ status: 'error', detail: `worker exited (${signal ?? code}) without a result: ${tail}` });
    });
  });
}
