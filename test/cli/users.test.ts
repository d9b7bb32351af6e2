// `postern users add|remove|list` on the server's users file; passwords from the environment, stdin, or a
// terminal prompt without echo (through a real pseudo-terminal).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Secret } from '../../src/core/index.js';
import { UsersFile } from '../../src/server/users-file.js';
import { peerSkip } from '../helpers/peers.js';
import { tempDir } from '../helpers/tmp.js';
import { inTerminal, runCli } from './cli.js';

describe('postern users', { concurrency: 3 }, () => {
  let home: string;
  before(async () => {
    home = await tempDir('cli-users');
  });
  const cli = (args: string[], extra: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(['users', ...args], { home, ...extra });

  test('add from --password-env and stdin, list, remove; the file works as the server reads it', async () => {
    const file = join(home, 'users');
    const added = await cli(['add', 'alice', '--file', file, '--password-env', 'ALICE_PW'], {
      env: { ALICE_PW: 'alice-secret-1' },
    });
    assert.equal(added.code, 0, added.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const piped = await cli(['add', 'bob', '--file', file], { stdin: 'bob-secret-2\nignored\n' });
    assert.equal(piped.code, 0, piped.stderr);
    for (const output of [added.stdout + added.stderr, piped.stdout + piped.stderr]) {
      assert.ok(!output.includes('secret'), 'no password in the output');
    }
    assert.ok(!readFileSync(file, 'utf8').includes('secret'), 'only verifiers are stored');

    const users = await UsersFile.load(file);
    assert.equal(await users.verifyPassword('alice', new Secret('alice-secret-1')), true);
    assert.equal(await users.verifyPassword('bob', new Secret('bob-secret-2')), true);
    assert.equal(await users.verifyPassword('bob', new Secret('wrong')), false);

    const listed = await cli(['list', '--file', file]);
    assert.match(listed.stdout, /^alice\s+SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN$/m);
    const json = JSON.parse((await cli(['list', '--file', file, '--json'])).stdout);
    assert.deepEqual(
      json.map((u: { name: string }) => u.name),
      ['alice', 'bob'],
    );

    assert.equal((await cli(['remove', 'bob', '--file', file])).code, 0);
    const gone = await cli(['remove', 'bob', '--file', file]);
    assert.equal(gone.code, 67);
    assert.match(gone.stderr, /no user "bob"/);
  });

  test('the default file goes into ./postern-data, which is created', async () => {
    const cwd = await tempDir('cli-users-default');
    const added = await runCli(['users', 'add', 'carol', '--password-env', 'PW'], {
      home: cwd,
      env: { PW: 'x-secret-3' },
    });
    assert.equal(added.code, 0, added.stderr);
    assert.equal(statSync(join(cwd, 'postern-data', 'users')).mode & 0o777, 0o600);
  });

  test('--password VALUE is refused; --cram-md5 warns what it stores', async () => {
    const file = join(home, 'refused');
    const refused = await cli(['add', 'dave', '--file', file, '--password', 'dave-secret-4']);
    assert.equal(refused.code, 64);
    assert.ok(!refused.stderr.includes('dave-secret-4'));
    const cram = await cli(['add', 'erin', '--file', file, '--cram-md5'], { stdin: 'erin-pw\n' });
    assert.equal(cram.code, 0, cram.stderr);
    assert.match(cram.stderr, /stores the password itself/);
    assert.match((await cli(['list', '--file', file])).stdout, /erin\s+.*CRAM-MD5/);
  });

  test('a terminal prompt without echo, asked twice (pseudo-terminal)', {
    skip: peerSkip('python3'),
  }, async () => {
    const file = join(home, 'tty-users');
    const typed = 'typed-secret-5';
    const ok = await inTerminal(['users', 'add', 'frank', '--file', file], {
      home,
      prompt: 'New password for frank: |Repeat it: ',
      answers: [typed, typed],
    });
    assert.equal(ok.code, 0, ok.screen);
    assert.match(ok.screen, /New password for frank: /);
    assert.match(ok.screen, /added/);
    assert.ok(!ok.screen.includes(typed), 'the password is not echoed');
    assert.equal(await (await UsersFile.load(file)).verifyPassword('frank', new Secret(typed)), true);

    const differ = await inTerminal(['users', 'add', 'gina', '--file', file], {
      home,
      prompt: 'New password for gina: |Repeat it: ',
      answers: ['one-secret', 'other-secret'],
    });
    assert.equal(differ.code, 64);
    assert.match(differ.screen, /the two passwords differ/);
  });
});
