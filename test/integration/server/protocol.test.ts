// The server's SMTP dialogue over real sockets: every command, sequence and syntax errors with their codes,
// pipelining order, DSN and other parameters reaching the backend, BDAT, and hooks.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { TranscriptEvent } from '../../../src/core/index.js';
import { jsonLogger, reject } from '../../../src/server/index.js';
import type { Envelope } from '../../../src/server/session.js';
import { openTls, RawClient, startServer, type TestServer } from './harness.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The message as the client sent it: the Received header (first field, folded) removed. */
function withoutReceived(data: Buffer): string {
  const text = data.toString('latin1');
  assert.ok(text.startsWith('Received: '), 'the message starts with our Received header');
  const end = text.search(/\r\n(?![\t ])/);
  return text.slice(end + 2);
}

describe('server protocol', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ receivedHeader: true });
  });
  after(() => t.close());

  test('greeting, EHLO capabilities before and after STARTTLS', async () => {
    const c = await RawClient.connect(t.port());
    const greeting = await c.reply();
    assert.equal(greeting.code, 220);
    assert.match(greeting.text, /^mx\.test ESMTP/);
    const ehlo = await c.command('EHLO client.test');
    assert.equal(ehlo.code, 250);
    assert.deepEqual(ehlo.lines, [
      'mx.test',
      'PIPELINING',
      'SIZE 26214400',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'CHUNKING',
      'BINARYMIME',
      'DSN',
      'STARTTLS',
      'HELP',
    ]);
    assert.equal((await c.command('STARTTLS')).code, 220);
    await c.startTls(t.ca);
    const after = await c.command('EHLO client.test');
    assert.ok(!after.lines.includes('STARTTLS'));
    assert.ok(after.lines.includes('REQUIRETLS'));
    assert.equal((await c.command('STARTTLS')).text, '5.5.1 Bad sequence of commands: TLS is already active');
    assert.equal((await c.command('QUIT')).code, 221);
    await c.waitClosed();
  });

  test('a whole transaction, pipelined, with replies in order and the message as sent', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    c.write(
      'EHLO client.test\r\nMAIL FROM:<a@example.com> BODY=8BITMIME\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n',
    );
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await c.reply()).code);
    assert.deepEqual(codes, [250, 250, 250, 250, 354]);
    c.write('Subject: hi\r\n\r\n..leading dot\r\nline\r\n.\r\nNOOP\r\nQUIT\r\n');
    const queued = await c.reply();
    assert.equal(queued.code, 250);
    const id = /queued as ([0-9A-Z]+)/.exec(queued.text)?.[1];
    assert.ok(id);
    assert.equal((await c.reply()).code, 250);
    assert.equal((await c.reply()).code, 221);
    const stored = t.store.messages.find((m) => m.info.id === id);
    assert.ok(stored);
    assert.equal(withoutReceived(stored.data), 'Subject: hi\r\n\r\n.leading dot\r\nline\r\n');
    assert.match(
      stored.data.toString(),
      /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test \(Postern\) with ESMTP id /,
    );
    assert.deepEqual(
      stored.info.envelope.rcptTo.map((r) => r.address),
      ['b@example.org', 'c@example.org'],
    );
  });

  test('sequence errors are 503, syntax errors 501/500/555, each with its enhanced code', async () => {
    const c = await RawClient.connect(t.port());
    await c.reply();
    const expect = async (line: string, code: number, enhanced: string) => {
      const r = await c.command(line);
      assert.equal(r.code, code, `${line} → ${r.code} ${r.text}`);
      assert.ok(r.text.startsWith(enhanced), `${line} → ${r.text}`);
    };
    await expect('MAIL FROM:<a@example.com>', 503, '5.5.1');
    await expect('EHLO', 501, '5.5.4');
    await expect('EHLO client.test', 250, 'mx.test');
    await expect('RCPT TO:<b@example.org>', 503, '5.5.1');
    await expect('DATA', 503, '5.5.1');
    await expect('MAIL FROM:<not an address>', 501, '5.1.7');
    await expect('MAIL FROM:<a@example.com> XFOO=1', 555, '5.5.4');
    await expect('FROB', 500, '5.5.1');
    await expect('EXPN list', 502, '5.5.1');
    await expect('MAIL FROM:<a@example.com>', 250, '2.1.0');
    await expect('MAIL FROM:<a@example.com>', 503, '5.5.1');
    c.close();
    // A fresh connection: the first one has used up most of its allowance of bad commands.
    const d = await RawClient.connect(t.port());
    await d.reply();
    await d.command('EHLO client.test');
    await d.command('MAIL FROM:<a@example.com>');
    const expectD = async (line: string, code: number, enhanced: string) => {
      const r = await d.command(line);
      assert.equal(r.code, code, `${line} → ${r.code} ${r.text}`);
      assert.ok(r.text.startsWith(enhanced), `${line} → ${r.text}`);
    };
    await expectD('RCPT TO:<bad address>', 501, '5.1.3');
    await expectD('RCPT TO:<jörg@example.org>', 553, '5.6.7');
    await expectD('DATA', 554, '5.5.1');
    await expectD('RCPT TO:<Postmaster>', 250, '2.1.5');
    await expectD('RSET', 250, '2.0.0');
    await expectD('VRFY alice', 252, '2.5.0');
    await expectD('HELP', 214, '2.0.0');
    await expectD('NOOP', 250, '2.0.0');
    d.close();
  });

  test('SMTPUTF8 addresses, DSN and other parameters reach the backend as parsed', async () => {
    const seen: { from?: unknown; rcpt?: unknown; envelope?: Envelope; body?: string } = {};
    const s = await startServer({
      backend: {
        onMailFrom: (address, params) => {
          seen.from = { address, params };
        },
        onRcptTo: (address, params) => {
          seen.rcpt = { address, params };
        },
        onData: async (stream, envelope) => {
          seen.envelope = envelope;
          seen.body = (await readAll(stream)).toString('utf8');
          return { id: 'CUSTOM-ID' };
        },
      },
      receivedHeader: false,
    });
    try {
      const c = await RawClient.connect(s.port());
      await c.reply();
      await c.command('EHLO client.test');
      assert.equal(
        (await c.command('MAIL FROM:<jörg@bücher.example> SMTPUTF8 RET=HDRS ENVID=x+2By SIZE=100')).code,
        250,
      );
      c.write(
        Buffer.from(
          'RCPT TO:<δοκιμή@παράδειγμα.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org\r\n',
          'utf8',
        ),
      );
      assert.equal((await c.reply()).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      c.write(Buffer.from('Subject: Grüße\r\n\r\nπ\r\n.\r\n', 'utf8'));
      assert.match((await c.reply()).text, /queued as CUSTOM-ID/);
      assert.deepEqual(seen.from, {
        address: 'jörg@bücher.example',
        params: { smtpUtf8: true, ret: 'HDRS', envid: 'x+y', size: 100 },
      });
      assert.deepEqual(seen.rcpt, {
        address: 'δοκιμή@παράδειγμα.example',
        params: { notify: ['SUCCESS', 'FAILURE'], orcpt: { type: 'rfc822', address: 'b@example.org' } },
      });
      assert.equal(seen.body, 'Subject: Grüße\r\n\r\nπ\r\n');
      assert.equal(seen.envelope?.rcptTo.length, 1);
      c.close();
    } finally {
      await s.close();
    }
  });

  test('BDAT chunks, BINARYMIME, and BINARYMIME refused with DATA', async () => {
    const c = await openTls(t.port(), t.ca);
    assert.equal((await c.command('MAIL FROM:<a@example.com> BODY=BINARYMIME')).code, 250);
    assert.equal((await c.command('RCPT TO:<b@example.org>')).code, 250);
    assert.equal((await c.command('DATA')).text, '5.5.1 BINARYMIME requires BDAT, not DATA');
    const first = 'Subject: bin\r\n\r\n\x00\x01\r\n.\r\n';
    c.write(`BDAT ${first.length}\r\n${first}`);
    assert.equal((await c.reply()).text, `2.0.0 ${first.length} octets received`);
    c.write('BDAT 3 LAST\r\nend');
    const done = await c.reply();
    assert.equal(done.code, 250);
    const id = /queued as (\S+)/.exec(done.text)?.[1];
    const stored = t.store.messages.find((m) => m.info.id === id);
    assert.ok(stored);
    assert.equal(withoutReceived(stored.data), `${first}end`);
    assert.match(stored.data.toString(), /with ESMTPS id/);
    // BDAT without a transaction: the chunk is still read, so the next command is understood.
    c.write('BDAT 5\r\nxxxxxNOOP\r\n');
    assert.equal((await c.reply()).code, 503);
    assert.equal((await c.reply()).code, 250);
    c.close();
  });

  test('hooks refuse with their own reply; other errors become 451 4.3.0 without internal text', async () => {
    const logged: string[] = [];
    const s = await startServer({
      logger: {
        debug() {},
        info() {},
        warn() {},
        error: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
      },
      backend: {
        onHelo: (name) => {
          if (name === 'bad.example') throw reject(550, '5.7.1', 'Go away');
        },
        onRcptTo: (address) => {
          if (address.startsWith('nobody@')) throw reject(550, '5.1.1', 'No such user');
          if (address.startsWith('crash@')) throw new Error('database password is hunter2');
        },
        onData: async (stream) => {
          const body = await readAll(stream);
          if (body.includes('REJECT-ME')) throw reject(554, '5.7.1', 'Content refused');
          return undefined;
        },
      },
    });
    try {
      const c = await RawClient.connect(s.port());
      await c.reply();
      assert.equal((await c.command('EHLO bad.example')).text, '5.7.1 Go away');
      assert.equal((await c.command('MAIL FROM:<a@example.com>')).code, 503, 'a refused EHLO does not greet');
      assert.equal((await c.command('EHLO good.example')).code, 250);
      assert.equal((await c.command('MAIL FROM:<a@example.com>')).code, 250);
      assert.equal((await c.command('RCPT TO:<nobody@example.org>')).text, '5.1.1 No such user');
      const crash = await c.command('RCPT TO:<crash@example.org>');
      assert.equal(crash.code, 451);
      assert.equal(crash.text, '4.3.0 Local error in processing, try again later');
      assert.ok(!c.received.includes('hunter2'));
      assert.ok(
        logged.some((line) => line.includes('hunter2')),
        'the error is logged locally',
      );
      assert.equal((await c.command('RCPT TO:<b@example.org>')).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      assert.equal((await c.command('REJECT-ME\r\n.')).text, '5.7.1 Content refused');
      c.close();
    } finally {
      await s.close();
    }
  });

  test('onData streams with backpressure: a slow reader still gets every byte of a 4 MB message', async () => {
    const received: number[] = [];
    const s = await startServer({
      receivedHeader: false,
      backend: {
        onData: async (stream) => {
          let total = 0;
          for await (const chunk of stream) {
            total += (chunk as Buffer).length;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          received.push(total);
          return undefined;
        },
      },
    });
    try {
      const c = await RawClient.connect(s.port());
      await c.reply();
      await c.command('EHLO client.test');
      await c.command('MAIL FROM:<a@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      const line = `${'x'.repeat(998)}\r\n`;
      const body = line.repeat(4000); // 4 MB
      c.write(body);
      c.write('.\r\n');
      assert.equal((await c.reply(20_000)).code, 250);
      assert.deepEqual(received, [body.length]);
      c.close();
    } finally {
      await s.close();
    }
  });

  test('onConnect can refuse a client; onClose is told about every connection', async () => {
    const closed: string[] = [];
    const s = await startServer({
      backend: {
        onConnect: (_remote, _tls, session) => {
          if (session.endpoint.tls === 'starttls' && closed.length === 0)
            throw reject(554, '5.7.1', 'Not you');
        },
        onClose: (session) => {
          closed.push(session.id);
        },
      },
    });
    try {
      const refused = await RawClient.connect(s.port());
      assert.equal((await refused.reply()).text, '5.7.1 Not you');
      await refused.waitClosed();
      const ok = await RawClient.connect(s.port());
      assert.equal((await ok.reply()).code, 220);
      await ok.command('QUIT');
      await ok.waitClosed();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(closed.length, 2);
    } finally {
      await s.close();
    }
  });

  test('JSON log lines and transcript events tell the story of a session', async () => {
    const out = new PassThrough();
    let logged = '';
    out.on('data', (chunk) => {
      logged += chunk.toString();
    });
    const events: TranscriptEvent[] = [];
    const s = await startServer({ logger: jsonLogger(out), transcript: (event) => events.push(event) });
    try {
      const c = await openTls(s.port(), s.ca);
      await c.command('MAIL FROM:<a@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      await c.command('Subject: logged\r\n\r\nhi\r\n.');
      await c.command('QUIT');
      await c.waitClosed();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const records = logged
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const messages = records.map((r) => r['msg']);
      for (const expected of ['listening', 'connect', 'tls', 'message accepted', 'disconnect']) {
        assert.ok(messages.includes(expected), `${expected} in ${messages.join(', ')}`);
      }
      const tls = records.find((r) => r['msg'] === 'tls')!;
      assert.equal(tls['version'], 'TLSv1.3');
      assert.equal(typeof tls['time'], 'string');
      assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), [
        'close',
        'connect',
        'data',
        'line',
        'tls',
      ]);
      const lines = events.filter((e) => e.type === 'line');
      assert.ok(lines.some((e) => e.direction === 'in' && e.line === 'STARTTLS' && !e.tls));
      assert.ok(lines.some((e) => e.direction === 'in' && e.line === 'QUIT' && e.tls));
    } finally {
      await s.close();
    }
  });
});
