// `npm start` = `postern demo`: ends by itself with exit 0 within a minute, shows both TLS modes with both
// mechanisms and the stored message, and leaves no temp folder and no listening port behind — also when it is
// interrupted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { describe, test } from 'node:test';
import { onExit } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/tmp.js';
import { baseEnv, cliArgv, ROOT } from './cli.js';

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args` to its end; `onStdout` sees the output as it arrives (and may signal the child). */
function runToEnd(
  command: string,
  args: readonly string[],
  o: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    onStdout?: (text: string, kill: () => void) => void;
  },
): Promise<Run> {
  const child = spawn(command, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = onExit(() => child.kill('SIGKILL'), `kill -9 ${child.pid} 2>/dev/null\n`);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    o.onStdout?.(stdout, () => child.kill('SIGINT'));
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${command} ${args.join(' ')} did not end in ${o.timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, o.timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      unregister();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What is left in the demo's TMPDIR, apart from tsx's compile cache (tsx-UID), which is not the demo's. */
async function leftIn(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => !/^tsx-\d+$/.test(name));
}

/** The ports the demo printed for its embedded server. */
function printedPorts(stdout: string): number[] {
  const m = /STARTTLS on 127\.0\.0\.1:(\d+), implicit TLS on 127\.0\.0\.1:(\d+)/.exec(stdout);
  assert.ok(m, stdout);
  return [Number(m[1]), Number(m[2])];
}

describe('postern demo', { concurrency: 2 }, () => {
  test('`npm start` exits 0 within 60 s: both modes, both mechanisms, the stored message; nothing left behind', async () => {
    const home = await tempDir('demo-home');
    const tmp = await tempDir('demo-tmp'); // the demo's TMPDIR: must be empty again afterwards
    const started = Date.now();
    const run = await runToEnd('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...baseEnv(home), TMPDIR: tmp },
      timeoutMs: 60_000,
    });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.ok(Date.now() - started < 60_000);
    for (const mode of ['STARTTLS', 'implicit TLS']) {
      for (const mechanism of ['SCRAM-SHA-256', 'PLAIN']) {
        assert.match(run.stdout, new RegExp(`── \\d/4 {2}${mode} · AUTH ${mechanism} ──`));
        assert.match(run.stdout, new RegExp(`✔ ${mode} +${mechanism} +TLSv1\\.[23] `));
      }
    }
    assert.equal(run.stdout.match(/→🔒 AUTH (?:SCRAM-SHA-256|PLAIN) \[redacted\]/g)?.length, 4);
    assert.match(run.stdout, /4 of 4 messages sent; 4 in the Maildir/);
    // The stored message: the Received header with the TLS details, the Chinese subject, the body.
    assert.match(
      run.stdout,
      /Received: from .*\n.*\(Postern\) with UTF8SMTPSA id .*\n.*\(version=TLSv1\.[23] cipher=/,
    );
    assert.match(run.stdout, /Subject: 你好，Postern！/);
    assert.match(run.stdout, /你好，世界！/);
    // The audit of both endpoints of the embedded server: a real grade, A or better.
    assert.match(run.stdout, /audit STARTTLS +grade A\+? +TLSv1\.2, TLSv1\.3/);
    assert.match(run.stdout, /audit implicit TLS +grade A\+? +TLSv1\.2, TLSv1\.3/);
    assert.match(run.stdout, /Done: the server is stopped/);
    assert.ok(!run.stdout.includes('\x1b['), 'no colours in a log');
    assert.deepEqual(await leftIn(tmp), [], 'the temp folder is removed');
    for (const port of printedPorts(run.stdout)) assert.equal(await listening(port), false);
  });

  test('interrupted with Ctrl-C: still stops the server and removes its temp folder', async () => {
    const home = await tempDir('demo-int-home');
    const tmp = await tempDir('demo-int-tmp');
    const [node, ...args] = cliArgv(['demo']);
    let interrupted = false;
    const run = await runToEnd(node!, args, {
      cwd: home,
      env: { ...baseEnv(home), TMPDIR: tmp },
      timeoutMs: 60_000,
      onStdout: (text, kill) => {
        if (!interrupted && text.includes('── 1/4')) {
          interrupted = true;
          kill();
        }
      },
    });
    assert.ok(interrupted, run.stdout);
    assert.equal(run.code, 130, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /interrupted/);
    assert.deepEqual(await leftIn(tmp), []);
    for (const port of printedPorts(run.stdout)) assert.equal(await listening(port), false);
  });
});
