// `postern serve` as a user runs it: the real CLI process in a fresh folder, tried with the exact commands it
// prints (swaks and `postern send`), reloaded with SIGHUP, stopped with SIGTERM — plus JSON logs and the
// refusals (open relay, ports in use, bad flags). Free ports from test/helpers/ports.ts; one test uses the real
// defaults 2525/2465 and is skipped when they are taken.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { createCa, createCertificate, createTransport } from '../../src/index.js';
import { addUser } from '../../src/server/index.js';
import { onExit, shellQuote } from '../helpers/cleanup.js';
import { peerSkip } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { RawClient } from '../integration/server/harness.js';
import { baseEnv, cliArgv, runCli } from './cli.js';

const READY = /SIGHUP reloads/;

/** A running `postern serve`: its output so far, waiting for lines, and stopping it with a signal. */
class Serve {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #waiters = new Set<() => void>();
  readonly #unregister: () => void;

  constructor(args: readonly string[], cwd: string, env: Record<string, string> = {}) {
    const [node, ...rest] = cliArgv(['serve', ...args]);
    this.child = spawn(node!, rest, {
      cwd,
      env: { ...baseEnv(cwd), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = this.child.pid!;
    this.#unregister = onExit(() => this.child.kill('SIGKILL'), `kill -9 ${pid} 2>/dev/null\n`);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.#wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.#unregister();
        this.#wake();
        resolve({ code, signal });
      });
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves with the match once `pattern` appears on `stream`; rejects after `timeoutMs` or at exit. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this[stream].match(pattern);
        if (m) {
          done();
          resolve(m);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`serve exited before ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no ${pattern} on ${stream} in ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  ready(): Promise<RegExpMatchArray> {
    return this.waitFor('stderr', READY);
  }

  /** The password printed for the test user. */
  password(): string {
    const m = /export SMTP_PASS=(\S+)/.exec(this.stderr);
    assert.ok(m, `no password printed:\n${this.stderr}`);
    return m[1]!;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const { code } = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(false)));
  });
}

async function maildirMessages(cwd: string, dir = 'postern-data/Maildir'): Promise<string[]> {
  const folder = join(cwd, dir, 'new');
  const names = existsSync(folder) ? await readdir(folder) : [];
  return Promise.all(names.map((name) => readFile(join(folder, name), 'utf8')));
}

/** The "Try it:" block as a shell script (the `export` line and both commands, with their continuations). */
function tryItScript(stderr: string): string {
  const block = stderr.split('Try it:\n')[1]?.split('\n\n')[0];
  assert.ok(block, `no "Try it:" block:\n${stderr}`);
  return block
    .split('\n')
    .map((line) => line.replace(/^ {2}/, ''))
    .join('\n');
}

/** A `postern` command on PATH that runs this checkout's CLI, so the printed commands run as printed. */
async function posternOnPath(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const shim = join(bin, 'postern');
  await writeFile(shim, `#!/bin/sh\nexec ${cliArgv([]).map(shellQuote).join(' ')} "$@"\n`);
  await chmod(shim, 0o755);
  return `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
}

const run = promisify(execFile);

describe('postern serve', { concurrency: 4 }, () => {
  test('no arguments but ports: a test user printed once, and the printed swaks and postern send commands deliver', {
    skip: peerSkip('swaks'),
  }, async () => {
    const cwd = await tempDir('serve-zero');
    const [starttls, implicit] = [await freePort(), await freePort()];
    const listen = [
      '--listen',
      `starttls://127.0.0.1:${starttls}`,
      '--listen',
      `tls://127.0.0.1:${implicit}`,
    ];
    const serve = new Serve(listen, cwd);
    try {
      await serve.ready();
      const password = serve.password();
      assert.match(serve.stderr, /Created the user test with a random password/);
      assert.match(serve.stderr, /clients trust its CA: postern-data\/tls\/ca\.pem/);
      assert.match(serve.stderr, /--tls-verify --tls-ca-path postern-data\/tls\/ca\.pem/);
      assert.match(serve.stderr, /--password-env SMTP_PASS/);
      assert.ok(!serve.stderr.includes('\x1b['), 'no colours when not a terminal');
      const users = await readFile(join(cwd, 'postern-data/users'), 'utf8');
      assert.ok(!users.includes(password), 'the users file holds verifiers only');

      // Exactly what was printed: `export SMTP_PASS=…`, `postern send …` and `… swaks …` (STARTTLS).
      const env = { ...baseEnv(cwd), PATH: await posternOnPath(cwd) };
      const printed = await run('/bin/sh', ['-ec', tryItScript(serve.stderr)], { cwd, env });
      assert.match(printed.stdout, /sent to the recipient/);
      assert.match(printed.stdout, /250 2\.0\.0 Ok: queued as/);
      // And swaks over implicit TLS, with the printed CA and credentials.
      await run(
        'swaks',
        [
          '--server',
          `127.0.0.1:${implicit}`,
          '--tls-on-connect',
          '--tls-verify',
          '--tls-ca-path',
          'postern-data/tls/ca.pem',
          '--auth',
          'LOGIN',
          '--auth-user',
          'test',
          '--to',
          'implicit@example.test',
        ],
        { cwd, env: { ...env, SWAKS_OPT_auth_password: password } },
      );

      const messages = await maildirMessages(cwd);
      assert.equal(messages.length, 3);
      for (const message of messages) {
        assert.match(message, /^Received: from .*\r\n\tby .* \(Postern\) with ESMTPSA id /);
        assert.match(message, /\(version=TLSv1\.[23] cipher=\S+/);
      }
      assert.ok(messages.some((m) => m.includes('Subject: Hello from postern')));
      await serve.waitFor(
        'stdout',
        /on tls:\/\/127\.0\.0\.1:\d+ · TLSv1\.3 \S+ · user test · 1 message accepted · quit/,
      );
      const lines = serve.stdout.match(/· user test · 1 message accepted · quit/g) ?? [];
      assert.equal(lines.length, 3, serve.stdout);
      assert.match(
        serve.stdout,
        /127\.0\.0\.1:\d+ ✓ accepted [A-Z0-9]+ from <test@example\.test> for 1 recipient/,
      );
      assert.ok(!serve.stdout.includes(password));
      assert.equal(await serve.stop(), 0);
    } finally {
      await serve.stop('SIGKILL');
    }

    // A second start finds the users file: no new user, no password.
    const again = new Serve(listen, cwd);
    try {
      await again.ready();
      assert.doesNotMatch(again.stderr, /Created the user|password {2}/);
      assert.match(again.stderr, /first set SMTP_PASS to the password of test/);
      assert.equal(await again.stop('SIGINT'), 0);
    } finally {
      await again.stop('SIGKILL');
    }
  });

  test('the real defaults: STARTTLS on 127.0.0.1:2525 and implicit TLS on :2465, and `postern send` finds them', async (t) => {
    const taken = [];
    for (const port of [2525, 2465]) if (await portTaken(port)) taken.push(port);
    if (taken.length > 0) {
      t.skip(`127.0.0.1:${taken.join(' and :')} already in use on this machine`);
      return;
    }
    const cwd = await tempDir('serve-defaults');
    const serve = new Serve([], cwd);
    try {
      await serve.ready();
      assert.match(serve.stderr, /STARTTLS {6}127\.0\.0\.1:2525\n {2}implicit TLS {2}127\.0\.0\.1:2465/);
      assert.match(serve.stderr, /--server smtp:\/\/127\.0\.0\.1:2525 --ca postern-data\/tls\/ca\.pem/);
      // No --server and no --ca: send's defaults are this server and its CA in ./postern-data.
      const sent = await runCli(
        [
          'send',
          '--user',
          'test',
          '--password-env',
          'SMTP_PASS',
          '--from',
          'a@example.test',
          '--to',
          'b@example.test',
          '--text',
          'hi',
        ],
        { home: cwd, env: { SMTP_PASS: serve.password() } },
      );
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal((await maildirMessages(cwd)).length, 1);
      assert.equal(await serve.stop(), 0);
      assert.equal(await listening(2525), false);
      assert.equal(await listening(2465), false);
    } finally {
      await serve.stop('SIGKILL');
    }
  });

  test('SIGHUP reloads the certificate files and the users file, and keeps the old ones when a reload fails', async () => {
    const cwd = await tempDir('serve-hup');
    const ca = await createCa({ commonName: 'Serve test CA', days: 2 });
    const leaf = () =>
      createCertificate({
        commonName: 'localhost',
        altNames: ['DNS:localhost', 'IP:127.0.0.1'],
        issuer: ca,
        days: 2,
      });
    const first = await leaf();
    const second = await leaf();
    const [certFile, keyFile] = [join(cwd, 'cert.pem'), join(cwd, 'key.pem')];
    await writeFile(certFile, first.cert);
    await writeFile(keyFile, first.key, { mode: 0o600 });
    const port = await freePort();
    const serve = new Serve(
      ['--listen', `tls://127.0.0.1:${port}`, '--cert', certFile, '--key', keyFile],
      cwd,
    );
    const presented = async () => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('secureConnect', resolve);
          socket.once('error', reject);
        });
        return socket.getPeerCertificate().fingerprint256;
      } finally {
        socket.destroy();
      }
    };
    const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
    try {
      await serve.ready();
      assert.match(serve.stderr, /cert\.pem \(clients must trust its issuer\)/);
      assert.equal(await presented(), fingerprint(first.cert));

      // Replace both files (each atomically, as a certificate renewal tool does), then SIGHUP.
      await writeFile(`${certFile}.new`, second.cert);
      await writeFile(`${keyFile}.new`, second.key, { mode: 0o600 });
      await rename(`${keyFile}.new`, keyFile);
      await rename(`${certFile}.new`, certFile);
      await addUser(join(cwd, 'postern-data/users'), 'bob', 'bob-password', { scryptCost: 1024 });
      serve.child.kill('SIGHUP');
      await serve.waitFor('stdout', /users reloaded file=postern-data\/users users=2/);
      assert.match(serve.stdout, /certificates reloaded/);
      assert.equal(await presented(), fingerprint(second.cert));

      // A broken certificate file: the error is logged and the working certificate stays in service.
      await writeFile(certFile, 'not a certificate\n');
      serve.child.kill('SIGHUP');
      await serve.waitFor('stdout', /error: certificate reload failed; the old certificate stays in use/);
      await serve.waitFor('stdout', /users reloaded .*\n(?:.*\n)*.*users reloaded/);
      assert.equal(await presented(), fingerprint(second.cert));
      assert.equal(await serve.stop(), 0);
    } finally {
      await serve.stop('SIGKILL');
    }
  });

  test('SIGTERM: new connections refused, the transaction in flight finishes with 250, exit 0, nothing listening', async () => {
    const cwd = await tempDir('serve-term');
    const [starttls, implicit] = [await freePort(), await freePort()];
    const serve = new Serve(
      ['--listen', `starttls://127.0.0.1:${starttls}`, '--listen', `tls://127.0.0.1:${implicit}`],
      cwd,
    );
    try {
      await serve.ready();
      const ca = await readFile(join(cwd, 'postern-data/tls/ca.pem'), 'utf8');
      const client = await RawClient.connect(implicit, { tls: true, ca });
      try {
        assert.equal((await client.reply()).code, 220);
        assert.equal((await client.command('EHLO client.test')).code, 250);
        assert.equal((await client.command('MAIL FROM:<slow@example.test>')).code, 250);
        assert.equal((await client.command('RCPT TO:<rcpt@example.test>')).code, 250);
        assert.equal((await client.command('DATA')).code, 354);
        client.write('Subject: in flight\r\n\r\nthe first half\r\n');

        serve.child.kill('SIGTERM');
        await serve.waitFor('stdout', /stopping \(SIGTERM\): 1 connection gets up to 10 s to finish/);
        assert.equal(await listening(starttls), false, 'no new connections once stopping');
        client.write('the second half\r\n.\r\n');
        assert.match((await client.reply()).text, /queued as/);
        await client.waitClosed();
      } finally {
        client.close();
      }
      assert.deepEqual(await serve.exited, { code: 0, signal: null });
      assert.match(serve.stdout, /1 message accepted · server shutting down/);
      assert.match(serve.stdout, /stopped\n$/);
      const [message] = await maildirMessages(cwd);
      assert.match(message ?? '', /the first half\r\nthe second half\r\n$/);
      assert.equal(await listening(starttls), false);
      assert.equal(await listening(implicit), false);
    } finally {
      await serve.stop('SIGKILL');
    }
  });

  test('--json-logs: every stdout line is JSON with connect, tls, auth and message events; --require-auth and --max-size apply', async () => {
    const cwd = await tempDir('serve-json');
    const [starttls, implicit] = [await freePort(), await freePort()];
    const serve = new Serve(
      [
        '--json-logs',
        '--require-auth',
        '--max-size',
        '10M',
        '--data-dir',
        'state',
        '--listen',
        `starttls://127.0.0.1:${starttls}`,
        '--listen',
        `tls://127.0.0.1:${implicit}`,
      ],
      cwd,
    );
    try {
      await serve.ready();
      assert.match(serve.stderr, /AUTH required to send, messages up to 10 MiB/);
      const password = serve.password();
      const ca = await readFile(join(cwd, 'state/tls/ca.pem'), 'utf8');

      const plain = await RawClient.connect(starttls);
      try {
        await plain.reply();
        assert.match((await plain.command('EHLO client.test')).text, /^SIZE 10485760$/m);
        assert.equal((await plain.command('MAIL FROM:<a@example.test>')).code, 530);
      } finally {
        plain.close();
      }
      const transport = createTransport({
        host: '127.0.0.1',
        port: implicit,
        tls: 'implicit',
        tlsOptions: { ca },
        auth: { user: 'test', pass: password },
        pool: false,
      });
      try {
        await transport.send({ from: 'a@example.test', to: 'b@example.test', subject: 'json', text: 'hi' });
      } finally {
        await transport.close();
      }
      await serve.waitFor('stdout', /"msg":"disconnect"[^\n]*"user":"test"/);
      assert.equal(await serve.stop(), 0);

      const records = serve.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const messages = records.map((r) => r['msg']);
      for (const msg of [
        'listening',
        'connect',
        'tls',
        'auth',
        'message accepted',
        'disconnect',
        'stopping',
        'closed',
      ]) {
        assert.ok(messages.includes(msg), `${msg} in ${JSON.stringify(messages)}`);
      }
      assert.ok(records.every((r) => typeof r['time'] === 'string' && typeof r['level'] === 'string'));
      assert.equal(records.find((r) => r['msg'] === 'auth')?.['user'], 'test');
      assert.equal(records.find((r) => r['msg'] === 'message accepted')?.['recipients'], 1);
      assert.ok(!serve.stdout.includes(password), 'no password in the logs');
      assert.equal((await maildirMessages(cwd, 'state/Maildir')).length, 1);
    } finally {
      await serve.stop('SIGKILL');
    }
  });

  test('refusals: a non-loopback bind without --require-auth, a port in use, bad flags', async () => {
    const cwd = await tempDir('serve-refuse');
    const port = await freePort();
    const open = await runCli(['serve', '--listen', `starttls://0.0.0.0:${port}`], { home: cwd });
    assert.equal(open.code, 78, open.stderr);
    assert.match(
      open.stderr,
      /refusing to accept mail without authentication on starttls:\/\/0\.0\.0\.0:\d+/,
    );
    assert.match(open.stderr, /open relay/);
    assert.match(open.stderr, /hint: .*--require-auth/);
    assert.equal(existsSync(join(cwd, 'postern-data')), false, 'nothing created');
    const v6 = await runCli(['serve', '--listen', `tls://[::]:${port}`], { home: cwd });
    assert.equal(v6.code, 78, v6.stderr);

    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const inUse = await runCli(['serve', '--listen', `starttls://127.0.0.1:${port}`], { home: cwd });
      assert.equal(inUse.code, 69, inUse.stderr);
      assert.match(
        inUse.stderr,
        /cannot listen on 127\.0\.0\.1 port \d+ \(EADDRINUSE\): the port is already in use/,
      );
      assert.match(inUse.stderr, /hint: .*--listen starttls:\/\/127\.0\.0\.1:\d+/);
      assert.equal(
        existsSync(join(cwd, 'postern-data/users')),
        false,
        'no test user nobody saw the password of',
      );
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }

    for (const args of [
      ['--listen', 'smtp://127.0.0.1:25'],
      ['--listen', 'starttls://127.0.0.1'],
      ['--listen', 'tls://[::zz]:2465'],
      ['--cert', 'cert.pem'],
      ['--max-size', 'lots'],
    ]) {
      const bad = await runCli(['serve', ...args], { home: cwd });
      assert.equal(bad.code, 64, `${args.join(' ')}: ${bad.stderr}`);
    }
    const missing = await runCli(['serve', '--users', 'nobody-here'], { home: cwd });
    assert.equal(missing.code, 66, missing.stderr);
    assert.match(missing.stderr, /postern users add NAME --file nobody-here/);
  });

  test('--allow-open-relay binds a non-loopback address, with a warning', async () => {
    const cwd = await tempDir('serve-relay');
    const port = await freePort('0.0.0.0');
    const serve = new Serve(['--listen', `starttls://0.0.0.0:${port}`, '--allow-open-relay'], cwd);
    try {
      await serve.ready();
      assert.match(
        serve.stderr,
        /warning: --allow-open-relay: starttls:\/\/0\.0\.0\.0:\d+ accepts mail from anyone/,
      );
      assert.match(
        serve.stderr,
        /--server smtp:\/\/127\.0\.0\.1:\d+/,
        'the printed commands connect over loopback',
      );
      assert.equal(await serve.stop(), 0);
    } finally {
      await serve.stop('SIGKILL');
    }
  });
});
