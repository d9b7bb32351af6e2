// The `postern` program itself: help with examples and exit codes, --version, colours only on a terminal and
// never with NO_COLOR, the password prompt and progress bar on a real pseudo-terminal, and the built bin.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { peerSkip } from '../helpers/peers.js';
import { type SmtpServerInstance, startSmtpServer } from '../helpers/smtp-server.js';
import { tempDir } from '../helpers/tmp.js';
import { baseEnv, inTerminal, ROOT, runCli } from './cli.js';

const run = promisify(execFile);
const PASSWORD = 'pty-typed-password-9';
const ESC = '\x1b[';

describe('the postern program', { concurrency: 4 }, () => {
  let home: string;
  let server: SmtpServerInstance;
  before(async () => {
    home = await tempDir('cli-program');
    server = await startSmtpServer({ users: [{ name: 'alice', password: PASSWORD }] });
  });
  after(async () => {
    await server?.stop();
  });
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { home, env });

  test('--help lists the commands, examples and every exit code; each command has its own help', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['send', 'cert', 'users'])
      assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'));
    assert.match(help.stdout, /Examples:\n {2}# /);
    for (const code of [0, 64, 65, 66, 67, 68, 69, 70, 73, 74, 75, 76, 77, 78, 79]) {
      assert.match(help.stdout, new RegExp(`^ +${code} {2}\\S`, 'm'), `exit code ${code} in --help`);
    }
    const send = await cli(['send', '--help']);
    assert.equal(send.code, 0);
    for (const flag of [
      '--server',
      '--host',
      '--port',
      '--tls',
      '--user',
      '--password-env',
      '--password-file',
      '--password-cmd',
      '--auth',
      '--oauth-token-cmd',
      '--from',
      '--to',
      '--cc',
      '--bcc',
      '--subject',
      '--text',
      '--text-file',
      '--html-file',
      '--attach',
      '--header',
      '--raw',
      '--dkim-key',
      '--dkim-selector',
      '--dkim-domain',
      '--dry-run',
      '--ca',
      '--insecure',
      '--pin',
      '--min-tls',
      '--client-cert',
      '--client-key',
      '--verbose',
      '--json',
      '--config',
      '--account',
    ]) {
      assert.match(send.stdout, new RegExp(`${flag}\\b`), `send --help lists ${flag}`);
    }
    assert.doesNotMatch(send.stdout, /--password </, 'the refused --password option stays hidden');
    assert.match(send.stdout, /79 {2}partial delivery/);
    assert.match((await cli(['cert', 'create', '--help'])).stdout, /Examples:/);
    assert.match((await cli(['users', 'add', '--help'])).stdout, /--password-env/);
  });

  test('--version prints the package version; no arguments is a usage error', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    const version = await cli(['--version']);
    assert.equal(version.stdout.trim(), pkg.version);
    const bare = await cli([]);
    assert.equal(bare.code, 64);
    assert.match(bare.stderr, /Usage: postern/);
    assert.equal((await cli(['frobnicate'])).code, 64);
    assert.equal((await cli(['cert'])).code, 64);
  });

  test('no colours when the output is not a terminal', async () => {
    const failed = await cli(['send', '--from', 'a@example.com']);
    assert.equal(failed.code, 64);
    assert.ok(!failed.stderr.includes(ESC), 'no escape sequences in piped output');
  });

  test('on a terminal: the password prompt hides what is typed, colours show, the progress bar runs', {
    skip: peerSkip('python3'),
  }, async () => {
    const big = join(home, 'big.bin');
    await writeFile(big, Buffer.alloc(3 * 1024 * 1024, 0x61));
    const args = [
      'send',
      '--host',
      '127.0.0.1',
      '--port',
      String(server.port),
      '--ca',
      server.caFile,
      '--user',
      'alice',
      '--from',
      'a@example.com',
      '--to',
      'tty@example.org',
      '--attach',
      big,
    ];
    const shown = await inTerminal(args, { home, prompt: 'Password for alice: ', answers: [PASSWORD] });
    assert.equal(shown.code, 0, shown.screen);
    assert.match(shown.screen, /Password for alice: /);
    assert.ok(!shown.screen.includes(PASSWORD), 'the typed password is not echoed');
    assert.ok(shown.screen.includes(`${ESC}32m`), 'colours on a terminal');
    assert.match(
      shown.screen,
      /sending .*\d+% [\d.]+ MB of [\d.]+ MB/,
      'a progress bar for a message over 1 MB',
    );
    assert.equal(server.messages.at(-1)?.user, 'alice');

    const plain = await inTerminal(args, {
      home,
      prompt: 'Password for alice: ',
      answers: [PASSWORD],
      env: { NO_COLOR: '1' },
    });
    assert.equal(plain.code, 0, plain.screen);
    assert.ok(!/\x1b\[[0-9;]*m/.test(plain.screen), 'NO_COLOR: no colour sequences at all');
  });

  test('the built bin: dist/cli/main.js starts with a shebang and runs as `postern`', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.bin.postern, 'dist/cli/main.js');
    assert.ok(pkg.files.includes('dist'));
    assert.ok(
      pkg.dependencies.commander && pkg.dependencies['smol-toml'],
      'runtime dependencies are dependencies',
    );
    // `npm run build`, into a private folder so the working tree's dist/ is left alone.
    const out = await tempDir('cli-build');
    await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'));
    await writeFile(join(out, 'package.json'), JSON.stringify({ type: 'module', version: pkg.version }));
    await mkdir(join(out, 'dist'), { recursive: true });
    try {
      await run(
        process.execPath,
        [
          join(ROOT, 'node_modules/typescript/bin/tsc'),
          '-p',
          join(ROOT, 'tsconfig.build.json'),
          '--outDir',
          join(out, 'dist'),
        ],
        {
          cwd: ROOT,
          timeout: 120_000,
        },
      );
    } catch (err) {
      // Type errors elsewhere in a work in progress still emit; only a missing main.js fails this test.
      const e = err as { stdout?: string };
      if (/src\/cli\//.test(e.stdout ?? '')) throw err;
    }
    const main = join(out, 'dist/cli/main.js');
    const text = await readFile(main, 'utf8');
    assert.ok(text.startsWith('#!/usr/bin/env node\n'), 'dist/cli/main.js starts with the shebang');
    await chmod(main, 0o755);
    const { stdout } = await run(main, ['--version'], { env: baseEnv(home) });
    assert.equal(stdout.trim(), pkg.version);
    const help = await run(main, ['send', '--help'], { env: baseEnv(home) });
    assert.match(help.stdout, /--password-env/);
  });
});
