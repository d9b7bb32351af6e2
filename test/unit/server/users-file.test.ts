import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { InputError } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';
import {
  createSaslClient,
  createSaslServer,
  type SaslServerContext,
  serverMechanisms,
} from '../../../src/sasl/index.js';
import {
  createScramStoredKey,
  deriveScramCredentials,
  formatScramStoredKey,
  hashPassword,
  parseScramStoredKey,
  parseScryptHash,
  verifyPasswordHash,
} from '../../../src/server/password-hash.js';
import { addUser, listUsers, removeUser, UsersFile } from '../../../src/server/users-file.js';
import { runExchange, SECRET_FOR_FAKE_SALTS } from '../sasl/server-harness.js';

/** Small scrypt cost so the suite stays fast; the default (2^15) is exercised once below. */
const FAST = { scryptCost: 2 ** 10 };
const PASSWORD = 'Tr0ub4dor&3 — ünïcödé';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'postern-users-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
let counter = 0;
const freshFile = () => join(dir, `users-${++counter}.txt`);
const configError = (line?: number) => (err: unknown) =>
  err instanceof InputError &&
  err.code === 'ECONFIG' &&
  (line === undefined || new RegExp(`line ${line}:`).test(err.message));

describe('password-hash: scrypt', () => {
  test('hash → verify round trip; the wrong password does not verify', async () => {
    const encoded = await hashPassword(new Secret('pencil'), { cost: 2 ** 10 });
    assert.match(encoded, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPasswordHash('pencil', encoded), true);
    assert.equal(await verifyPasswordHash('pencil ', encoded), false);
  });

  test('the default is N = 2^15, r = 8, p = 1, which needs more than Node’s default maxmem', async () => {
    const encoded = await hashPassword('pencil');
    assert.match(encoded, /^\$scrypt\$ln=15,r=8,p=1\$/);
    assert.equal(await verifyPasswordHash('pencil', encoded), true);
  });

  test('malformed or absurd hashes are ECONFIG errors that do not quote the hash', async () => {
    for (const bad of [
      '',
      '$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ',
      '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
      '$scrypt$ln=15,r=8,p=99$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
      '$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0=$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
      '$scrypt$ln=15,r=8,p=1$c2E$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
    ]) {
      assert.throws(
        () => parseScryptHash(bad),
        (err: unknown) => configError()(err) && (bad === '' || !(err as Error).message.includes(bad)),
        bad,
      );
    }
    await assert.rejects(hashPassword('x', { cost: 1000 }), /power of two/);
  });
});

describe('password-hash: RFC 5803 SCRAM keys', () => {
  test('format → parse round trip, for both hashes, with the documented default counts', async () => {
    for (const [hash, iterations, length] of [
      ['SHA-256', 10_000, 32],
      ['SHA-1', 4096, 20],
    ] as const) {
      const text = await createScramStoredKey('pencil', hash);
      assert.match(text, new RegExp(`^SCRAM-${hash}\\$${iterations}:[A-Za-z0-9+/=]{24}\\$[^:$]+:[^:$]+$`));
      const parsed = parseScramStoredKey(text);
      assert.equal(parsed.hash, hash);
      assert.equal(parsed.credentials.iterations, iterations);
      assert.equal(parsed.credentials.storedKey.length, length);
      assert.equal(formatScramStoredKey(hash, parsed.credentials), text);
    }
  });

  test('RFC 7677 example: pencil with its salt gives the keys that verify its proof', async () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const text = await createScramStoredKey('pencil', 'SHA-256', { iterations: 4096, salt });
    assert.equal(text.split('$')[1], '4096:W22ZaJ0SNY7soEsUEjb6gQ==');
    // RFC 3112 allows spaces around "$".
    assert.deepEqual(parseScramStoredKey(text.replaceAll('$', ' $ ')), parseScramStoredKey(text));
  });

  test('fewer than 4096 iterations, wrong key sizes or junk are refused', async () => {
    const good = await createScramStoredKey('pencil', 'SHA-1');
    for (const bad of [
      good.replace('$4096:', '$4095:'),
      good.replace('SCRAM-SHA-1', 'SCRAM-SHA-256'),
      good.replace(/:[^:]+$/, ':AAAA'),
      good.replace('SCRAM-SHA-1', 'SCRAM-MD5'),
      `${good}x`,
    ]) {
      assert.throws(() => parseScramStoredKey(bad), configError(), bad);
    }
    await assert.rejects(deriveScramCredentials('pencil', 'SHA-1', { iterations: 1000 }), InputError);
  });
});

describe('users file: add, list, remove', () => {
  test('round trip, replacing a user of the same name, in file order', async () => {
    const file = freshFile();
    assert.deepEqual(await listUsers(file), []);
    await addUser(file, 'alice', PASSWORD, FAST);
    await addUser(file, 'bob@example.com', new Secret('hunter2'), { ...FAST, cramMd5: true });
    await addUser(file, 'alice', 'new password', FAST);
    assert.deepEqual(await listUsers(file), [
      { name: 'alice', mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'LOGIN'] },
      { name: 'bob@example.com', mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'CRAM-MD5', 'PLAIN', 'LOGIN'] },
    ]);
    assert.equal(await removeUser(file, 'alice'), true);
    assert.equal(await removeUser(file, 'alice'), false);
    assert.equal(await removeUser(join(dir, 'missing.txt'), 'alice'), false);
    assert.deepEqual(
      (await listUsers(file)).map((user) => user.name),
      ['bob@example.com'],
    );
  });

  test('the file is created with mode 0600 and stays so; no temporary files are left', async () => {
    const file = freshFile();
    const previous = process.umask(0o022);
    try {
      await addUser(file, 'alice', PASSWORD, FAST);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      await addUser(file, 'bob', PASSWORD, FAST);
      await removeUser(file, 'bob');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    } finally {
      process.umask(previous);
    }
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.endsWith('.tmp')),
      [],
    );
  });

  test('the file never contains the password, in any common encoding, unless CRAM-MD5 was asked for', async () => {
    const file = freshFile();
    await addUser(file, 'alice', PASSWORD, FAST);
    const content = await readFile(file, 'utf8');
    for (const form of [
      PASSWORD,
      Buffer.from(PASSWORD).toString('base64'),
      Buffer.from(PASSWORD).toString('hex'),
      'Tr0ub4dor',
    ]) {
      assert.ok(!content.includes(form), form);
    }
    await addUser(file, 'carol', PASSWORD, { ...FAST, cramMd5: true });
    assert.match(await readFile(file, 'utf8'), /\tplain-for-cram-md5\$/);
  });

  test('concurrent adds from one process do not lose a user', async () => {
    const file = freshFile();
    await Promise.all(['a', 'b', 'c', 'd'].map((name) => addUser(file, name, PASSWORD, FAST)));
    assert.deepEqual((await listUsers(file)).map((user) => user.name).sort(), ['a', 'b', 'c', 'd']);
  });

  test('user names are SASLprep’d; unusable names and passwords are refused', async () => {
    const file = freshFile();
    await addUser(file, 'ａｌｉｃｅ', PASSWORD, FAST);
    assert.deepEqual(
      (await listUsers(file)).map((user) => user.name),
      ['alice'],
    );
    for (const name of ['', 'a\tb', 'a\nb', 'a\0b', '#root', ' alice', 'x'.repeat(256), 'a\u0007']) {
      await assert.rejects(
        addUser(file, name, PASSWORD, FAST),
        (err: unknown) => err instanceof InputError && err.code === 'EINVALID_ARGUMENT',
        JSON.stringify(name),
      );
    }
    for (const password of ['', 'pass\tword', '\u00AD']) {
      await assert.rejects(addUser(file, 'alice', password, FAST), InputError, JSON.stringify(password));
    }
  });
});

describe('users file: loading', () => {
  test('a corrupt line is an ECONFIG error naming the file and line, never quoting it', async () => {
    const file = freshFile();
    await addUser(file, 'alice', PASSWORD, FAST);
    const good = await readFile(file, 'utf8');
    const userLine = good.split('\n').find((line) => line.startsWith('alice'))!;
    const lineOf = good.split('\n').indexOf(userLine) + 1;
    const cases: [string, number][] = [
      [good.replace(userLine, userLine.replace('$scrypt$ln=10', '$scrypt$ln=1x')), lineOf],
      [good.replace(userLine, 'alice'), lineOf],
      [good.replace(userLine, `${userLine}\tmystery-field`), lineOf],
      [`${good}${userLine}\n`, lineOf + 1],
      [good.replace(userLine, userLine.replace(/\tSCRAM-SHA-1\$4096/, '\tSCRAM-SHA-1$1')), lineOf],
      [`${good}bob\tplain-for-cram-md5$!!!\n`, lineOf + 1],
      [good.replace(userLine, userLine.replace('alice', 'ａｌｉｃｅ')), lineOf],
    ];
    for (const [content, line] of cases) {
      await writeFile(file, content);
      await assert.rejects(UsersFile.load(file), (err: unknown) => {
        assert.ok(configError(line)(err), String(err));
        assert.ok((err as Error).message.includes(file));
        const secrets = userLine
          .split('\t')
          .slice(1)
          .flatMap((field) => field.split(/[$:]/));
        const quoted = secrets.filter((part) => part.length >= 16 && (err as Error).message.includes(part));
        assert.deepEqual(quoted, [], 'the line is not quoted');
        return true;
      });
      await assert.rejects(listUsers(file), configError(line));
      await assert.rejects(
        addUser(file, 'bob', PASSWORD, FAST),
        configError(line),
        'a corrupt file is left alone',
      );
    }
  });

  test('a missing file or one that is not UTF-8 is a clear ECONFIG error', async () => {
    await assert.rejects(UsersFile.load(join(dir, 'nope.txt')), /does not exist/);
    const file = freshFile();
    await writeFile(file, Buffer.from([0x61, 0x09, 0xff, 0x0a]));
    await assert.rejects(UsersFile.load(file), /not UTF-8/);
  });

  test('comments, blank lines and CRLF are accepted; has() prepares the name', async () => {
    const file = freshFile();
    await addUser(file, 'alice', PASSWORD, FAST);
    await writeFile(file, `\n# a comment\r\n${(await readFile(file, 'utf8')).replaceAll('\n', '\r\n')}\n`);
    const users = await UsersFile.load(file);
    assert.equal(users.size, 1);
    assert.equal(users.has('alice'), true);
    assert.equal(users.has('al\u00ADice'), true);
    assert.equal(users.has('bob'), false);
    assert.equal(inspect(users), `UsersFile(${file}, 1 users)`);
    assert.ok(!JSON.stringify(users).includes('scrypt'));
  });

  test('reload() picks up changes, and keeps the old users when the new file is broken', async () => {
    const file = freshFile();
    await addUser(file, 'alice', PASSWORD, FAST);
    const users = await UsersFile.load(file);
    await addUser(file, 'bob', PASSWORD, FAST);
    assert.equal(users.has('bob'), false);
    await users.reload();
    assert.equal(users.has('bob'), true);
    await writeFile(file, 'broken\n');
    await assert.rejects(users.reload(), configError(1));
    assert.equal(users.has('alice'), true);
  });

  test('CRAM-MD5 is offered only while some user has a plain-for-cram-md5 field', async () => {
    const file = freshFile();
    await addUser(file, 'alice', PASSWORD, FAST);
    const users = await UsersFile.load(file);
    const offered = () => serverMechanisms(users, { tls: true, channelBinding: false, allowCramMd5: true });
    assert.ok(!offered().includes('CRAM-MD5'));
    await addUser(file, 'bob', PASSWORD, { ...FAST, cramMd5: true });
    await users.reload();
    assert.ok(offered().includes('CRAM-MD5'));
    assert.equal(await users.plaintextPassword?.('alice'), undefined);
  });
});

describe('users file: every mechanism through createSaslServer and Postern’s client halves', () => {
  const binding = Buffer.alloc(32, 7);
  const context: SaslServerContext = {
    secretForFakeSalts: SECRET_FOR_FAKE_SALTS,
    channelBinding: { 'tls-exporter': binding },
  };
  let users: UsersFile;
  before(async () => {
    const file = freshFile();
    await addUser(file, 'alice', PASSWORD, FAST);
    await addUser(file, 'bob', 'hunter2', { ...FAST, cramMd5: true });
    users = await UsersFile.load(file);
  });

  const cases = [
    ['PLAIN', 'alice', PASSWORD],
    ['LOGIN', 'alice', PASSWORD],
    ['SCRAM-SHA-256', 'alice', PASSWORD],
    ['SCRAM-SHA-1', 'alice', PASSWORD],
    ['SCRAM-SHA-256-PLUS', 'alice', PASSWORD],
    ['SCRAM-SHA-1-PLUS', 'alice', PASSWORD],
    ['CRAM-MD5', 'bob', 'hunter2'],
  ] as const;
  for (const [mechanism, user, password] of cases) {
    test(`${mechanism}: right password succeeds, wrong password and unknown user fail alike`, async () => {
      const clientContext = mechanism.endsWith('-PLUS')
        ? { channelBinding: { type: 'tls-exporter' as const, data: binding } }
        : {};
      const run = (name: string, pass: string) =>
        runExchange(
          createSaslClient(mechanism, { user: name, pass }, clientContext),
          createSaslServer(mechanism, users, context),
        );
      const ok = await run(user, password);
      assert.equal(ok.outcome, 'success', String('error' in ok && ok.error));
      assert.equal('user' in ok && ok.user, user);
      const wrong = await run(user, `${password}!`);
      const unknown = await run('nobody', `${password}!`);
      assert.deepEqual(wrong.steps.at(-1), { type: 'failure', reason: 'credentials' });
      assert.deepEqual(unknown.steps.at(-1), wrong.steps.at(-1));
      assert.deepEqual(
        unknown.steps.map((step) => step.type),
        wrong.steps.map((step) => step.type),
      );
    });
  }

  test('an unknown user costs about as much scrypt work as a known one (PLAIN)', async () => {
    const file = freshFile();
    await addUser(file, 'alice', PASSWORD, { scryptCost: 2 ** 13 });
    const slow = await UsersFile.load(file);
    const median = async (user: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = process.hrtime.bigint();
        await slow.verifyPassword(user, new Secret('wrong'));
        times.push(Number(process.hrtime.bigint() - start));
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const [known, unknown] = [await median('alice'), await median('nobody')];
    // Loose bounds: this guards against skipping the hash for unknown users, not against microsecond leaks.
    assert.ok(unknown > known / 3 && unknown < known * 3, `known ${known} ns, unknown ${unknown} ns`);
  });
});
