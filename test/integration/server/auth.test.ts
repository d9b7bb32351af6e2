// AUTH on the server: the SASL server halves over real TLS sessions (our client and raw exchanges), the users
// file, failures that all look alike, growing delays, 421 after too many, requireAuth, and redaction.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TranscriptEvent } from '../../../src/core/index.js';
import { createTransport } from '../../../src/index.js';
import { addUser, reject, UsersFile } from '../../../src/server/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { openTls, startServer, type TestServer } from './harness.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('server AUTH', () => {
  let t: TestServer;
  let users: UsersFile;
  const transcript: TranscriptEvent[] = [];
  before(async () => {
    const dir = await tempDir('auth');
    const file = join(dir, 'users');
    await addUser(file, 'alice', 'correct horse', { scryptCost: 1024 });
    await addUser(file, 'bob', 'hunter2-battery', { scryptCost: 1024, cramMd5: true });
    users = await UsersFile.load(file);
    t = await startServer({
      auth: { store: users, requireAuth: true, allowCramMd5: true },
      limits: { maxAuthFailures: 3, authFailureDelay: 100 },
      transcript: (event) => transcript.push(event),
    });
  });
  after(() => t.close());

  test('EHLO under TLS offers the mechanisms the users file supports, strongest first', async () => {
    const c = await openTls(t.port(), t.ca);
    c.write('EHLO again.test\r\n');
    const ehlo = await c.reply();
    const auth = ehlo.lines.find((l) => l.startsWith('AUTH '));
    assert.equal(
      auth,
      'AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN',
    );
    c.close();
  });

  for (const mechanism of [
    'SCRAM-SHA-256-PLUS',
    'SCRAM-SHA-256',
    'SCRAM-SHA-1',
    'CRAM-MD5',
    'PLAIN',
    'LOGIN',
  ]) {
    test(`our client authenticates with ${mechanism} and sends`, async () => {
      const transport = createTransport({
        host: '127.0.0.1',
        port: t.port(),
        tls: 'starttls',
        tlsOptions: { ca: t.ca, servername: 'localhost' },
        auth:
          mechanism === 'CRAM-MD5'
            ? { user: 'bob', pass: 'hunter2-battery' }
            : { user: 'alice', pass: 'correct horse' },
        authMethod: mechanism,
        pool: false,
      });
      try {
        const result = await transport.sendRaw(
          { from: 'alice@example.com', to: ['bob@example.org'] },
          'Subject: auth\r\n\r\nhello\r\n',
        );
        assert.ok(result.queueId);
      } finally {
        await transport.close();
      }
    });
  }

  test('our client pipelines AUTH PLAIN with its first message (DATA); a wrong password stores nothing', async () => {
    const send = async (pass: string, to: string) => {
      const events: TranscriptEvent[] = [];
      const transport = createTransport({
        host: '127.0.0.1',
        port: t.port(),
        tls: 'starttls',
        tlsOptions: { ca: t.ca, servername: 'localhost' },
        auth: { user: 'alice', pass },
        authMethod: 'PLAIN',
        chunking: false,
        pool: false,
        retry: false,
        transcript: (e) => events.push(e),
      });
      try {
        return {
          result: await transport.sendRaw(
            { from: 'alice@example.com', to: [to] },
            'Subject: p\r\n\r\nhi\r\n',
          ),
          events,
        };
      } finally {
        await transport.close();
      }
    };
    const before = t.store.messages.length;
    const { result, events } = await send('correct horse', 'pipelined@example.org');
    assert.equal(result.method, 'DATA');
    const out = events.filter((e) => e.type === 'line').map((e) => `${e.direction} ${e.line.split(' ')[0]}`);
    const auth = out.indexOf('out AUTH');
    assert.deepEqual(out.slice(auth, auth + 5), ['out AUTH', 'out MAIL', 'out RCPT', 'out DATA', 'in 235']);
    assert.equal(t.store.messages.length, before + 1);
    assert.match(t.store.messages.at(-1)?.data.toString() ?? '', /with ESMTPSA/);
    await assert.rejects(send('wrong horse', 'never@example.org'), { code: 'EAUTH_FAILED' });
    assert.equal(t.store.messages.length, before + 1);
  });

  test('unknown user and wrong password get the same reply; delays grow; 421 after the limit', async () => {
    const c = await openTls(t.port(), t.ca);
    const timings: number[] = [];
    const replies: string[] = [];
    for (const [user, pass] of [
      ['nobody', 'x'],
      ['alice', 'wrong'],
      ['alice', 'wrong again'],
    ]) {
      const started = Date.now();
      const r = await c.command(`AUTH PLAIN ${b64(`\0${user}\0${pass}`)}`, 10_000);
      timings.push(Date.now() - started);
      replies.push(`${r.code} ${r.text}`);
    }
    assert.deepEqual(replies, Array(3).fill('535 5.7.8 Authentication credentials invalid'));
    assert.ok(timings[1]! > timings[0]! + 50 && timings[2]! > timings[1]! + 100, `delays ${timings}`);
    const closing = await c.reply();
    assert.equal(closing.code, 421);
    await c.waitClosed();
  });

  test('LOGIN step by step, "*" cancels, a bad response is 501, then success', async () => {
    const c = await openTls(t.port(), t.ca);
    assert.equal((await c.command('AUTH LOGIN')).code, 334);
    assert.equal((await c.command('*')).code, 501);
    assert.equal((await c.command('AUTH LOGIN')).code, 334);
    assert.equal((await c.command('not base64!')).code, 501);
    assert.equal((await c.command('AUTH FOO')).code, 504);
    assert.equal((await c.command(`AUTH LOGIN ${b64('alice')}`)).code, 334);
    assert.equal((await c.command(b64('correct horse'))).code, 235);
    assert.equal((await c.command('AUTH PLAIN')).code, 503, 'already authenticated');
    assert.equal((await c.command('MAIL FROM:<a@example.com>')).code, 250);
    assert.equal(
      (await c.command(`AUTH PLAIN ${b64('\0alice\0correct horse')}`)).code,
      503,
      'not during a transaction',
    );
    c.close();
    const texts = transcript.filter((e) => e.type === 'line').map((e) => (e as { line: string }).line);
    assert.ok(texts.includes('AUTH LOGIN [redacted]'));
    assert.ok(texts.includes('[redacted]'));
    for (const secret of [
      'correct horse',
      b64('correct horse'),
      b64('\0alice\0correct horse'),
      b64('alice'),
    ]) {
      assert.ok(!texts.some((line) => line.includes(secret)), `the transcript never shows ${secret}`);
    }
  });

  test('requireAuth: MAIL before AUTH is 530 5.7.0', async () => {
    const c = await openTls(t.port(), t.ca);
    const r = await c.command('MAIL FROM:<a@example.com>');
    assert.equal(r.code, 530);
    assert.match(r.text, /^5\.7\.0 /);
    c.close();
  });

  test('acting as someone else (authzid) needs onAuth to say yes', async () => {
    const s = await startServer({
      auth: { store: users },
      backend: {
        onAuth: (identity) => {
          if (identity.authzid === 'root') throw reject(535, '5.7.8', 'Authentication credentials invalid');
        },
      },
    });
    const plain = await startServer({ auth: { store: users } });
    try {
      const c = await openTls(s.port(), s.ca);
      assert.equal((await c.command(`AUTH PLAIN ${b64('root\0alice\0correct horse')}`)).code, 535);
      assert.equal((await c.command(`AUTH PLAIN ${b64('shared\0alice\0correct horse')}`)).code, 235);
      c.close();
      const d = await openTls(plain.port(), plain.ca);
      assert.equal((await d.command(`AUTH PLAIN ${b64('shared\0alice\0correct horse')}`)).code, 535);
      assert.equal((await d.command(`AUTH PLAIN ${b64('alice\0alice\0correct horse')}`)).code, 235);
      d.close();
    } finally {
      await s.close();
      await plain.close();
    }
  });
});
