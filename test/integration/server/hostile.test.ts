// Hostile input: each attack gets the right reply or a disconnect, and the server keeps serving an honest
// client afterwards (checked after every test).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { MaildirStore } from '../../../src/server/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { openTls, RawClient, sleep, startServer, type TestServer, testUsers } from './harness.js';

/** An honest client sends a message and gets 250. */
async function honestTransaction(t: TestServer): Promise<void> {
  const c = await RawClient.connect(t.port());
  assert.equal((await c.reply()).code, 220);
  await c.command('EHLO honest.test');
  assert.equal((await c.command('MAIL FROM:<honest@example.com>')).code, 250);
  assert.equal((await c.command('RCPT TO:<b@example.org>')).code, 250);
  assert.equal((await c.command('DATA')).code, 354);
  assert.equal((await c.command('Subject: still here\r\n\r\nhi\r\n.')).code, 250);
  await c.command('QUIT');
  c.close();
}

describe('hostile clients', () => {
  let t: TestServer;
  const mailFroms: string[] = [];
  before(async () => {
    t = await startServer({
      auth: { store: testUsers },
      limits: { maxRecipients: 3, maxMessageSize: 10_000, maxBadCommands: 5 },
      backend: {
        onMailFrom: (address) => {
          mailFroms.push(address);
        },
      },
    });
  });
  after(() => t.close());
  afterEach(() => honestTransaction(t));

  test('STARTTLS injection: commands pipelined after STARTTLS are refused, never answered', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    await c.command('EHLO client.test');
    c.write('STARTTLS\r\nEHLO injected.test\r\n');
    const refused = await c.reply();
    assert.equal(refused.code, 503);
    await c.waitClosed();
    assert.equal(c.pending, '', 'nothing answers the injected EHLO');
    assert.ok(!c.received.includes('220 2.0.0'), 'STARTTLS was not accepted');
  });

  test('STARTTLS injection: plaintext arriving after the 220 goes to TLS and fails the handshake', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    await c.command('EHLO client.test');
    assert.equal((await c.command('STARTTLS')).code, 220);
    c.write('EHLO injected.test\r\n');
    await c.waitClosed();
    assert.ok(
      !/\r\n250[ -]/.test(c.received.slice(c.received.indexOf('220 2.0.0'))),
      'no reply to the plaintext',
    );
  });

  const SMUGGLING = [
    '\n.\n',
    '\n.\r',
    '\r.\n',
    '\r.\r',
    '\n.\r\n',
    '\r.\r\n',
    '\r\n\x00.\r\n',
    '\r\n.\r\r\n',
  ];
  for (const ending of SMUGGLING) {
    test(`smuggling ending ${JSON.stringify(ending)} never starts a second transaction`, async () => {
      mailFroms.length = 0;
      const before = t.store.messages.length;
      const c = await RawClient.connect(t.port());
      await c.reply();
      await c.command('EHLO client.test');
      await c.command('MAIL FROM:<sender@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      assert.equal((await c.command('DATA')).code, 354);
      c.write(
        `Subject: hi\r\n\r\nbody${ending}MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nforged\r\n.\r\n`,
      );
      const r = await c.reply();
      const bare = /[^\r]\n|\r[^\n]/.test(`x${ending}x`);
      if (bare) {
        // A bare CR or LF: refused and disconnected, as Postfix and Sendmail do.
        assert.equal(r.code, 521);
        assert.match(r.text, /^5\.5\.2 /);
        await c.waitClosed();
        assert.equal(t.store.messages.length, before);
      } else {
        // No bare line ending: everything up to the real CRLF.CRLF is one message, smuggled text included.
        assert.equal(r.code, 250);
        assert.equal(t.store.messages.length, before + 1);
        assert.ok(t.store.messages.at(-1)!.data.includes('MAIL FROM:<evil@attacker.example>'));
        c.close();
      }
      assert.deepEqual(mailFroms, ['sender@example.com'], 'only one MAIL FROM was ever processed');
    });
  }

  test('smuggling with bareLineEndings: normalize: the smuggled lines are message content', async () => {
    const s = await startServer({ bareLineEndings: 'normalize', receivedHeader: false });
    try {
      for (const ending of SMUGGLING) {
        const c = await RawClient.connect(s.port());
        await c.reply();
        await c.command('EHLO client.test');
        await c.command('MAIL FROM:<sender@example.com>');
        await c.command('RCPT TO:<b@example.org>');
        await c.command('DATA');
        c.write(`body${ending}MAIL FROM:<evil@attacker.example>\r\nDATA\r\nforged\r\n.\r\nNOOP\r\n`);
        assert.equal((await c.reply()).code, 250, JSON.stringify(ending));
        assert.equal((await c.reply()).code, 250, 'the NOOP after the real end');
        c.close();
      }
      assert.equal(s.store.messages.length, SMUGGLING.length);
      for (const m of s.store.messages) {
        assert.ok(m.data.includes('MAIL FROM:<evil@attacker.example>\r\n'));
        assert.ok(!/[^\r]\n|\r[^\n]/.test(m.data.toString('latin1')), 'stored with CRLF only');
      }
    } finally {
      await s.close();
    }
  });

  test('AUTH is neither offered nor accepted before TLS (538 5.7.11); it is after', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    const ehlo = await c.command('EHLO client.test');
    assert.ok(!ehlo.lines.some((l) => l.startsWith('AUTH')));
    const r = await c.command(`AUTH PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}`);
    assert.equal(r.code, 538);
    assert.match(r.text, /^5\.7\.11 /);
    c.close();
    const secure = await openTls(t.port(), t.ca);
    assert.equal(
      (await secure.command(`AUTH PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}`)).code,
      235,
    );
    secure.close();
  });

  test('requireTls: 530 5.7.0 before STARTTLS', async () => {
    const s = await startServer({ requireTls: true });
    try {
      const c = await RawClient.connect(s.port());
      await c.reply();
      await c.command('EHLO client.test');
      const r = await c.command('MAIL FROM:<a@example.com>');
      assert.equal(r.code, 530);
      assert.match(r.text, /^5\.7\.0 /);
      assert.equal((await c.command('NOOP')).code, 250);
      assert.equal((await c.command('STARTTLS')).code, 220);
      await c.startTls(s.ca);
      await c.command('EHLO client.test');
      assert.equal((await c.command('MAIL FROM:<a@example.com>')).code, 250);
      c.close();
    } finally {
      await s.close();
    }
  });

  test('oversize: refused at MAIL with SIZE, and after the data without it (drained, session goes on)', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    await c.command('EHLO client.test');
    const early = await c.command('MAIL FROM:<a@example.com> SIZE=20000');
    assert.equal(early.code, 552);
    assert.match(early.text, /^5\.3\.4 /);
    await c.command('MAIL FROM:<a@example.com> SIZE=100');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    const before = t.store.messages.length;
    c.write(`${'y'.repeat(100)}\r\n`.repeat(300));
    c.write('.\r\nNOOP\r\n');
    const late = await c.reply();
    assert.equal(late.code, 552);
    assert.match(late.text, /^5\.3\.4 /);
    assert.equal((await c.reply()).code, 250, 'the NOOP after the drained data');
    assert.equal(t.store.messages.length, before);
    // BDAT over the limit: the chunk is read and dropped, then 552.
    await c.command('MAIL FROM:<a@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    c.write(`BDAT 20000 LAST\r\n${'z'.repeat(20000)}NOOP\r\n`);
    assert.equal((await c.reply()).code, 552);
    assert.equal((await c.reply()).code, 250);
    c.close();
  });

  test('too many recipients: 452 4.5.3', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@example.com>');
    for (let i = 0; i < 3; i++) assert.equal((await c.command(`RCPT TO:<r${i}@example.org>`)).code, 250);
    const r = await c.command('RCPT TO:<r3@example.org>');
    assert.equal(r.code, 452);
    assert.match(r.text, /^4\.5\.3 /);
    c.close();
  });

  test('binary garbage: errors, then 421 after maxBadCommands', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    const garbage = Buffer.alloc(2000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) % 256;
    c.write(garbage);
    c.write('\r\n\x00\xff\xfe\r\nasdf\r\n\x1b[2J\r\nzzz\r\nqqq\r\n');
    await c.waitClosed();
    assert.match(c.received, /421 4\.7\.0 Too many errors/);
  });

  test('a 100 KB line: 500 5.5.2, discarded to its end, then the session goes on', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    c.write(`NOOP ${'a'.repeat(100 * 1024)}\r\nNOOP\r\n`);
    const r = await c.reply();
    assert.equal(r.code, 500);
    assert.match(r.text, /^5\.5\.2 /);
    assert.equal((await c.reply()).code, 250);
    c.close();
  });

  test('talking before the greeting and HTTP requests are refused at once', async () => {
    const early = net.connect({ host: '127.0.0.1', port: t.port() });
    early.on('error', () => {});
    early.write('EHLO too.early\r\n');
    let text = '';
    early.on('data', (d) => {
      text += d.toString();
    });
    await once(early, 'close');
    assert.match(text, /^521 5\.5\.1 /);
    assert.ok(!text.includes('220 '), 'no greeting for an early talker');

    const http = await RawClient.connect(t.port());
    await http.reply();
    http.write('POST /submit HTTP/1.1\r\nHost: mx.test\r\n\r\n');
    assert.equal((await http.reply()).code, 521);
    await http.waitClosed();
  });

  test('slowloris: one byte per second runs into the command timeout (421 4.4.2)', async () => {
    const s = await startServer({ limits: { idleTimeout: 1500, commandTimeout: 2500 } });
    try {
      const c = await RawClient.connect(s.port());
      await c.reply();
      const started = Date.now();
      for (const byte of 'EHLO slow.client.test') {
        if (c.closed) break;
        c.write(byte);
        await sleep(1000);
      }
      await c.waitClosed();
      assert.match(c.received, /421 4\.4\.2 /);
      const took = Date.now() - started;
      assert.ok(took >= 2400 && took < 4500, `closed after ${took} ms`);
      // And an idle client, after the idle timeout.
      const idle = await RawClient.connect(s.port());
      await idle.reply();
      await idle.waitClosed(4000);
      assert.match(idle.received, /421 4\.4\.2 /);
    } finally {
      await s.close();
    }
  });

  test('a reset in the middle of DATA leaves nothing behind (Maildir tmp/ is empty)', async () => {
    const dir = await tempDir('reset');
    const store = new MaildirStore(join(dir, 'Maildir'));
    const s = await startServer({ store: store as never });
    try {
      const c = await RawClient.connect(s.port());
      await c.reply();
      await c.command('EHLO client.test');
      await c.command('MAIL FROM:<a@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      c.write(`Subject: cut\r\n\r\n${'x'.repeat(50_000)}`);
      await sleep(100);
      c.socket.resetAndDestroy();
      await sleep(200);
      assert.deepEqual(await readdir(join(dir, 'Maildir', 'tmp')), []);
      assert.deepEqual(await readdir(join(dir, 'Maildir', 'new')), []);
      assert.equal(s.server.connections, 0);
    } finally {
      await s.close();
    }
  });

  test('connection limits: 421 4.7.0 over maxClients and over maxClientsPerIp', async () => {
    const s = await startServer({ limits: { maxClients: 10, maxClientsPerIp: 2 } });
    try {
      const a = await RawClient.connect(s.port());
      const b = await RawClient.connect(s.port());
      assert.equal((await a.reply()).code, 220);
      assert.equal((await b.reply()).code, 220);
      const c = await RawClient.connect(s.port());
      const r = await c.reply();
      assert.equal(r.code, 421);
      assert.match(r.text, /^4\.7\.0 /);
      await c.waitClosed();
      a.close();
      await sleep(50);
      const d = await RawClient.connect(s.port());
      assert.equal((await d.reply()).code, 220, 'a slot is free again');
      b.close();
      d.close();
    } finally {
      await s.close();
    }
    const total = await startServer({ limits: { maxClients: 1 } });
    try {
      const a = await RawClient.connect(total.port());
      assert.equal((await a.reply()).code, 220);
      const b = await RawClient.connect(total.port());
      assert.match((await b.reply()).text, /^4\.7\.0 Too many connections/);
      a.close();
    } finally {
      await total.close();
    }
  });

  test('a TLS client on the implicit port that never completes the handshake is dropped', async () => {
    const s = await startServer({
      endpoints: [{ port: 0, tls: 'implicit' }],
      limits: { handshakeTimeout: 300 },
    });
    try {
      const raw = net.connect({ host: '127.0.0.1', port: s.port() });
      raw.on('error', () => {});
      raw.write('EHLO plaintext.on.tls.port\r\n');
      await once(raw, 'close');
      const ok = tls.connect({ host: '127.0.0.1', port: s.port(), ca: s.ca, servername: 'localhost' });
      await once(ok, 'secureConnect');
      ok.destroy();
    } finally {
      await s.close();
    }
  });
});
