/**
 * CPU profile of one client in one scenario, for finding where its time goes (not part of `npm run bench`):
 *
 *   node --import tsx bench/profile-client.ts [pooled|fresh] [postern|nodemailer] [messages] [DIR]
 *
 * Starts the bench's sink, runs one worker with node --cpu-prof into DIR (default ./profiles) and prints the
 * worker's measurement (DIR `none`: no profile, the measurement alone). Open the .cpuprofile in Chrome DevTools, or summarise it with bench/profile-top.ts.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSinkWithCa } from './sink-process.js';
import type { Job } from './worker.js';

const [scenario = 'pooled', client = 'postern', count = '20000', dir = 'profiles'] = process.argv.slice(2);
const { sink, ca } = await startSinkWithCa([{ name: 'starttls', mode: 'starttls' }]);
try {
  const messages = Number(count);
  const job: Job = {
    scenario: scenario === 'fresh' ? 'fresh' : 'pooled',
    client: client === 'nodemailer' ? 'nodemailer' : 'postern',
    settings: {
      port: sink.port('starttls'),
      tls: 'starttls',
      ca,
      pooled: scenario !== 'fresh',
      chunking: false,
      ...(scenario === 'fresh' ? { auth: { user: 'bench', pass: 'bench' } } : {}),
    },
    messages,
    warmup: Math.min(messages, 2000),
    size: 1024,
  };
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      ...(dir === 'none' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]),
      '--import',
      'tsx',
      worker,
    ],
    { env: { ...process.env, BENCH_JOB: JSON.stringify(job) }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  await new Promise((resolve) => child.on('exit', resolve));
} finally {
  await sink.stop();
}
