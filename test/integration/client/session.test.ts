// Transcript tests of the client against scripted loopback servers: protocol order, pipelining,
// STARTTLS stripping and injection, command injection, faults and timeouts.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { createTransport, PosternError, SmtpSession, type TranscriptEvent } from '../../../src/index.js';
import { createCa, createCertificate } from '../../../src/tls/index.js';
import { type ScriptedConnection, startScriptedServer } from '../../helpers/scripted-server.js';

let ca: string;
let cert: string;
let key: string;

before(async () => {
  const root = await createCa({ commonName: 'Postern Test CA' });
  const leaf = await createCertificate({
    commonName: 'localhost',
    altNames: ['DNS:localhost', 'IP:127.0.0.1'],
    issuer: root,
  });
  ca = root.cert;
  cert = leaf.cert;
  key = leaf.key;
});

const EHLO_PLAIN = [
  'test.example',
  'PIPELINING',
  'SIZE 1000000',
  '8BITMIME',
  'STARTTLS',
  'ENHANCEDSTATUSCODES',
];
const EHLO_TLS = [
  'test.example',
  'PIPELINING',
  'SIZE 1000000',
  '8BITMIME',
  'AUTH PLAIN LOGIN',
  'ENHANCEDSTATUSCODES',
];

/** Greeting, EHLO, STARTTLS, TLS, EHLO again: the common opening of a STARTTLS session. */
async function openStarttls(c: ScriptedConnection, after = EHLO_TLS): Promise<void> {
  c.reply(220, 'test.example ESMTP ready');
  assert.match(await c.readLine(), /^EHLO /);
  c.reply(250, EHLO_PLAIN);
  assert.equal(await c.readLine(), 'STARTTLS');
  c.reply(220, '2.0.0 Ready to start TLS');
  await c.startTls(cert, key);
  assert.match(await c.readLine(), /^EHLO /);
  c.reply(250, after);
}

function errorCode(err: unknown): string {
  return err instanceof PosternError ? err.code : `not a PosternError: ${String(err)}`;
}

const message = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\nHello\r\n.dot line\r\n';

describe('client session against scripted servers', () => {
  test('pipelines MAIL, every RCPT and DATA in one write and reports each recipient', async () => {
    let firstWrite = '';
    let body: Buffer = Buffer.alloc(0);
    const server = await startScriptedServer(async (c) => {
      await openStarttls(c);
      const before = c.received.length;
      const mail = await c.readLine();
      firstWrite = Buffer.concat(c.received.slice(before)).toString();
      assert.equal(mail, 'MAIL FROM:<a@example.test> SIZE=' + Buffer.byteLength(message));
      assert.equal(await c.readLine(), 'RCPT TO:<b@example.test>');
      assert.equal(await c.readLine(), 'RCPT TO:<nobody@example.test>');
      assert.equal(await c.readLine(), 'DATA');
      c.write('250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@example.test>: User unknown\r\n354 go\r\n');
      body = await c.readUntil('\r\n.\r\n');
      c.reply(250, '2.0.0 Ok: queued as 4XyZ12');
      assert.equal(await c.readLine(), 'QUIT');
      c.reply(221, 'bye');
    });
    try {
      const session = await SmtpSession.open({
        host: '127.0.0.1',
        port: server.port,
        tls: 'starttls',
        tlsOptions: { ca },
        chunking: true,
      });
      const result = await session.send(
        { from: 'a@example.test', to: ['b@example.test', 'nobody@example.test'] },
        message,
      );
      await session.quit();
      assert.deepEqual(result.accepted, ['b@example.test']);
      assert.equal(result.rejected.length, 1);
      assert.equal(result.rejected[0]?.address, 'nobody@example.test');
      assert.equal(result.rejected[0]?.reply.code, 550);
      assert.equal(result.rejected[0]?.reply.enhanced, '5.1.1');
      assert.equal(result.queueId, '4XyZ12');
      assert.equal(result.method, 'DATA');
      // RFC 2920: the whole envelope and DATA went out in one write, before any reply.
      assert.match(firstWrite, /^MAIL FROM:.*\r\nRCPT TO:<b@.*\r\nRCPT TO:<nobody@.*\r\nDATA\r\n$/);
      assert.equal(body.toString(), message.replace('\r\n.dot', '\r\n..dot') + '.\r\n');
      assert.deepEqual(server.errors, []);
    } finally {
      await server.close();
    }
  });

  test('20,000 sends queued on a session whose connection dies all settle, each with ECONNECTION_CLOSED', {
    timeout: 30_000,
  }, async () => {
    const server = await startScriptedServer(async (c) => {
      await c.greet('x', ['PIPELINING']);
      await c.readLine(); // the first MAIL
      c.destroy();
    });
    const session = await SmtpSession.open({ host: '127.0.0.1', port: server.port, tls: 'none' });
    try {
      // Each queued send takes over from the one before as soon as that one fails: a hand-over chain, which
      // must not grow the stack (it once did, and the sends past the overflow never settled).
      const results = await Promise.allSettled(
        Array.from({ length: 20_000 }, (_, i) =>
          session.send({ from: 'a@x.test', to: ['b@x.test'] }, `Subject: ${i}\r\n\r\nx\r\n`),
        ),
      );
      const codes = new Set(
        results.map((r) =>
          r.status === 'rejected' && r.reason instanceof PosternError ? r.reason.code : 'other',
        ),
      );
      assert.deepEqual([...codes], ['ECONNECTION_CLOSED']);
    } finally {
      session.close();
      await server.close();
    }
  });

  test('uses BDAT LAST in the same write when CHUNKING is offered', async () => {
    let chunk = '';
    const server = await startScriptedServer(async (c) => {
      await openStarttls(c, [...EHLO_TLS, 'CHUNKING']);
      await c.readLine(); // MAIL
      await c.readLine(); // RCPT
      const bdat = await c.readLine();
      const m = /^BDAT (\d+) LAST$/.exec(bdat);
      assert.ok(m, bdat);
      chunk = (await c.readBytes(Number(m[1]))).toString();
      c.write('250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as BDAT1\r\n');
      await c.readLine().catch(() => '');
      c.reply(221, 'bye');
    });
    try {
      const session = await SmtpSession.open({ host: '127.0.0.1', port: server.port, tlsOptions: { ca } });
      const result = await session.send(
        { from: 'a@example.test', to: ['b@example.test'] },
        'Subject: x\n\nbare LF body\n.\n',
      );
      await session.quit();
      assert.equal(result.method, 'BDAT');
      assert.equal(result.queueId, 'BDAT1');
      // BDAT: no dot-stuffing, but bare LF still becomes CRLF.
      assert.equal(chunk, 'Subject: x\r\n\r\nbare LF body\r\n.\r\n');
      assert.deepEqual(server.errors, []);
    } finally {
      await server.close();
    }
  });

  test('STARTTLS stripped: fails closed and never sends AUTH', async () => {
    let received: Buffer[] = [];
    const server = await startScriptedServer(async (c) => {
      received = c.received;
      c.reply(220, 'mitm ready');
      await c.readLine();
      c.reply(250, ['mitm', 'PIPELINING', 'AUTH PLAIN LOGIN']);
      await c.readLine(2_000).catch(() => '');
    });
    try {
      await assert.rejects(
        SmtpSession.open({
          host: '127.0.0.1',
          port: server.port,
          tls: 'starttls',
          auth: { user: 'u', pass: 'p4ssw0rd' },
        }),
        (err) => errorCode(err) === 'ESTARTTLS_UNAVAILABLE',
      );
      await new Promise((r) => setTimeout(r, 50));
      const sent = Buffer.concat(received).toString();
      assert.match(sent, /^EHLO /);
      assert.equal(sent.includes('AUTH'), false);
      assert.equal(sent.includes('p4ssw0rd'), false);
    } finally {
      await server.close();
    }
  });

  test('bytes injected after "220 ready to start TLS" are refused', async () => {
    const server = await startScriptedServer(async (c) => {
      c.reply(220, 'ready');
      await c.readLine();
      c.reply(250, EHLO_PLAIN);
      await c.readLine();
      // The injected reply arrives in the same packet as the 220.
      c.write('220 2.0.0 Ready to start TLS\r\n250 injected\r\n');
      await c.readLine().catch(() => '');
    });
    try {
      await assert.rejects(
        SmtpSession.open({ host: '127.0.0.1', port: server.port, tlsOptions: { ca } }),
        (err) => errorCode(err) === 'ESTARTTLS_INJECTION',
      );
    } finally {
      await server.close();
    }
  });

  test('CR/LF in an address or the EHLO name is a typed error and nothing is written', async () => {
    const seen: string[] = [];
    const server = await startScriptedServer(async (c) => {
      await openStarttls(c);
      for (;;) {
        const line = await c.readLine(10_000);
        seen.push(line);
        if (line === 'QUIT') {
          c.reply(221, 'bye');
          return;
        }
        c.reply(250, 'ok');
      }
    });
    try {
      const session = await SmtpSession.open({ host: '127.0.0.1', port: server.port, tlsOptions: { ca } });
      for (const evil of ['a@example.test\r\nRCPT TO:<x@evil>', 'a@example.test\nX', 'a@exa\0mple.test']) {
        await assert.rejects(
          session.send({ from: evil, to: ['b@example.test'] }, message),
          (err) => errorCode(err) === 'ECOMMAND_INJECTION' || errorCode(err) === 'EADDRESS_INVALID',
        );
        await assert.rejects(
          session.send({ from: 'a@example.test', to: [evil] }, message),
          (err) => errorCode(err) === 'ECOMMAND_INJECTION' || errorCode(err) === 'EADDRESS_INVALID',
        );
      }
      await session.quit();
      assert.deepEqual(seen, ['QUIT']);
      await assert.rejects(
        SmtpSession.open({
          host: '127.0.0.1',
          port: server.port,
          tlsOptions: { ca },
          name: 'evil\r\nMAIL FROM:<x>',
        }),
        (err) => errorCode(err) === 'ECOMMAND_INJECTION' || errorCode(err) === 'EINVALID_ARGUMENT',
      );
    } finally {
      await server.close();
    }
  });

  test('a server closing mid-DATA gives a transient error, not a success', async () => {
    const server = await startScriptedServer(async (c) => {
      await openStarttls(c);
      await c.readLine();
      await c.readLine();
      await c.readLine();
      c.write('250 ok\r\n250 ok\r\n354 go\r\n');
      await c.readBytes(10);
      c.destroy();
    });
    try {
      const session = await SmtpSession.open({ host: '127.0.0.1', port: server.port, tlsOptions: { ca } });
      const err = await session
        .send({ from: 'a@example.test', to: ['b@example.test'] }, message + 'x'.repeat(200_000))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof PosternError, String(err));
      assert.equal(err.transient, true);
      assert.match(err.code, /^ECONNECTION/);
      assert.equal(session.usable, false);
    } finally {
      await server.close();
    }
  });

  test('a silent server times out and the error names the greeting phase', async () => {
    const server = await startScriptedServer(async (c) => {
      await c.readLine(5_000).catch(() => '');
    });
    try {
      await assert.rejects(
        SmtpSession.open({
          host: '127.0.0.1',
          port: server.port,
          tls: 'starttls',
          timeouts: { greeting: 200 },
        }),
        (err) =>
          err instanceof PosternError && err.code === 'ETIMEOUT' && err.phase === 'greeting' && err.transient,
      );
    } finally {
      await server.close();
    }
  });

  test('HELO fallback when EHLO is not recognised (plaintext, no extensions)', async () => {
    const server = await startScriptedServer(async (c) => {
      c.reply(220, 'old server');
      assert.match(await c.readLine(), /^EHLO /);
      c.reply(502, 'Command not implemented');
      assert.match(await c.readLine(), /^HELO /);
      c.reply(250, 'old.example');
      assert.match(await c.readLine(), /^MAIL FROM:<a@example.test>$/);
      c.reply(250, 'ok');
      assert.equal(await c.readLine(), 'RCPT TO:<b@example.test>');
      c.reply(250, 'ok');
      assert.equal(await c.readLine(), 'DATA');
      c.reply(354, 'go');
      await c.readUntil('\r\n.\r\n');
      c.reply(250, 'accepted');
      await c.readLine().catch(() => '');
      c.reply(221, 'bye');
    });
    try {
      const session = await SmtpSession.open({ host: '127.0.0.1', port: server.port, tls: 'opportunistic' });
      assert.equal(session.capabilities.pipelining, false);
      const result = await session.send({ from: 'a@example.test', to: ['b@example.test'] }, message);
      assert.deepEqual(result.accepted, ['b@example.test']);
      await session.quit();
      assert.deepEqual(server.errors, []);
    } finally {
      await server.close();
    }
  });

  test('AUTH never goes over plaintext, and the transcript redacts AUTH payloads', async () => {
    await assert.rejects(
      SmtpSession.open({ host: '127.0.0.1', port: 9, tls: 'none', auth: { user: 'u', pass: 'secret-pw' } }),
      (err) => errorCode(err) === 'EAUTH_PLAINTEXT',
    );
    const events: TranscriptEvent[] = [];
    let authLine = '';
    const server = await startScriptedServer(async (c) => {
      await openStarttls(c);
      authLine = await c.readLine();
      c.reply(235, '2.7.0 Authentication successful');
      await c.readLine().catch(() => '');
      c.reply(221, 'bye');
    });
    try {
      const session = await SmtpSession.open({
        host: '127.0.0.1',
        port: server.port,
        tlsOptions: { ca },
        auth: { user: 'alice', pass: 'secret-pw' },
        transcript: (e) => events.push(e),
      });
      await session.quit();
      assert.equal(authLine, `AUTH PLAIN ${Buffer.from('\0alice\0secret-pw').toString('base64')}`);
      const text = JSON.stringify(events);
      assert.equal(text.includes('secret-pw'), false);
      assert.equal(text.includes(Buffer.from('\0alice\0secret-pw').toString('base64')), false);
      assert.ok(events.some((e) => e.type === 'line' && e.line === 'AUTH PLAIN [redacted]'));
      assert.ok(events.some((e) => e.type === 'tls'));
    } finally {
      await server.close();
    }
  });

  test('535 and 534 5.7.9 become distinct auth errors with hints', async () => {
    for (const [reply, code] of [
      ['535 5.7.8 Authentication credentials invalid', 'EAUTH_FAILED'],
      ['534 5.7.9 Application-specific password required', 'EAUTH_APP_PASSWORD'],
      ['454 4.7.0 Temporary authentication failure', 'EAUTH_TEMPORARY'],
    ] as const) {
      const server = await startScriptedServer(async (c) => {
        await openStarttls(c);
        await c.readLine();
        c.write(`${reply}\r\n`);
        await c.readLine().catch(() => '');
      });
      try {
        const err = await SmtpSession.open({
          host: '127.0.0.1',
          port: server.port,
          tlsOptions: { ca },
          auth: { user: 'alice', pass: 'pw-never-shown' },
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof PosternError);
        assert.equal(err.code, code);
        assert.ok(err.hint && err.hint.length > 10);
        assert.equal(err.reply?.code, Number(reply.slice(0, 3)));
        assert.equal(inspect(err, { depth: 5 }).includes('pw-never-shown'), false);
      } finally {
        await server.close();
      }
    }
  });

  test('the transport reconnects after a 421 and retries the message on a new connection', async () => {
    const delivered: string[] = [];
    const server = await startScriptedServer(async (c, index) => {
      await openStarttls(c);
      if (index === 0) {
        await c.readLine();
        c.reply(421, '4.3.2 Service shutting down');
        c.destroy();
        return;
      }
      await c.readLine();
      await c.readLine();
      await c.readLine();
      c.write('250 ok\r\n250 ok\r\n354 go\r\n');
      delivered.push((await c.readUntil('\r\n.\r\n')).toString());
      c.reply(250, 'queued as SECOND');
      await c.readLine().catch(() => '');
      c.reply(221, 'bye');
    });
    const transport = createTransport({
      host: '127.0.0.1',
      port: server.port,
      tls: 'starttls',
      tlsOptions: { ca },
      retry: { retries: 2, minDelay: 10 },
    });
    try {
      const result = await transport.sendRaw({ from: 'a@example.test', to: ['b@example.test'] }, message);
      assert.equal(result.attempts, 2);
      assert.equal(result.queueId, 'SECOND');
      assert.equal(delivered.length, 1);
      assert.equal(server.connections, 2);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('util.inspect of a transport and its options never shows the password', () => {
    const transport = createTransport('smtps://alice:hunter2-secret@127.0.0.1:465');
    assert.equal(inspect(transport, { depth: 10, showHidden: true }).includes('hunter2'), false);
    const options = { host: 'x', auth: { user: 'alice', pass: 'hunter2-secret' } };
    const t2 = createTransport(options);
    assert.equal(inspect(t2, { depth: 10 }).includes('hunter2'), false);
  });
});
