// Our client against python3-aiosmtpd (Debian) and the smtp-server npm package: byte-exact delivery,
// PIPELINING-less and CHUNKING-less paths, XOAUTH2 with one token refresh, TLS resumption, a 100 MB stream.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { createTransport, PosternError, SmtpSession, type TranscriptEvent } from '../../src/index.js';
import { startAiosmtpd } from '../helpers/aiosmtpd.js';
import { peerSkip } from '../helpers/peers.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { firstGroupVerbs } from '../helpers/transcript.js';

const message = [
  'From: =?UTF-8?B?5byg5LiJ?= <zhang@example.test>',
  'To: bob@example.test',
  'Subject: interop',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  '.starts with a dot',
  'ünïcödé body 中文',
  '.',
  '',
].join('\r\n');

describe('client ⇄ python3-aiosmtpd', { skip: peerSkip('aiosmtpd') }, () => {
  test('STARTTLS + AUTH PLAIN/LOGIN, DATA without CHUNKING: the bytes arrive exactly', async () => {
    const server = await startAiosmtpd({
      tls: 'starttls',
      authUsers: [{ name: 'carol', password: 'pw-aio-1' }],
    });
    try {
      const ca = readFileSync(server.caFile, 'utf8');
      for (const mechanism of ['PLAIN', 'LOGIN']) {
        const transport = createTransport({
          host: '127.0.0.1',
          port: server.port,
          tls: 'starttls',
          tlsOptions: { ca, servername: 'localhost' },
          auth: { user: 'carol', pass: 'pw-aio-1' },
          authMethod: mechanism,
          pool: false,
          retry: false,
        });
        const result = await transport.sendRaw(
          { from: 'zhang@example.test', to: ['bob@example.test'] },
          message,
        );
        await transport.close();
        assert.equal(result.method, 'DATA');
        assert.deepEqual(result.accepted, ['bob@example.test']);
      }
      const got = await server.waitForMessages(2);
      for (const m of got) {
        assert.equal(m.data.toString('utf8'), message);
        assert.equal(m.authUser, 'carol');
        assert.equal(m.tls, true);
        assert.ok(m.mailOptions.includes('BODY=8BITMIME'), m.mailOptions.join(' '));
      }
    } finally {
      await server.stop();
    }
  });

  test('implicit TLS and several recipients', async () => {
    const server = await startAiosmtpd({ tls: 'implicit' });
    try {
      const session = await SmtpSession.open({
        host: '127.0.0.1',
        port: server.port,
        tls: 'implicit',
        tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
      });
      const result = await session.send(
        { from: 'zhang@example.test', to: ['a@example.test', 'b@example.test', 'c@example.test'] },
        message,
      );
      await session.quit();
      assert.equal(result.accepted.length, 3);
      const [m] = await server.waitForMessages(1);
      assert.deepEqual(m?.rcptTos, ['a@example.test', 'b@example.test', 'c@example.test']);
      assert.equal(m?.data.toString('utf8'), message);
    } finally {
      await server.stop();
    }
  });

  test('the client refuses to AUTH when aiosmtpd offers it over plaintext', async () => {
    const server = await startAiosmtpd({ tls: 'none', authUsers: [{ name: 'carol', password: 'pw' }] });
    try {
      await assert.rejects(
        SmtpSession.open({
          host: '127.0.0.1',
          port: server.port,
          tls: 'opportunistic',
          auth: { user: 'carol', pass: 'pw' },
        }),
        (e) => e instanceof PosternError && e.code === 'EAUTH_PLAINTEXT',
      );
    } finally {
      await server.stop();
    }
  });
});

describe('client ⇄ python3-aiosmtpd: AUTH without PIPELINING', { skip: peerSkip('aiosmtpd') }, () => {
  test('aiosmtpd offers no PIPELINING, so AUTH PLAIN goes alone and MAIL waits for its 235', async () => {
    const server = await startAiosmtpd({
      tls: 'starttls',
      authUsers: [{ name: 'carol', password: 'pw-aio-2' }],
    });
    const events: TranscriptEvent[] = [];
    try {
      const transport = createTransport({
        host: '127.0.0.1',
        port: server.port,
        tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
        auth: { user: 'carol', pass: 'pw-aio-2' },
        authMethod: 'PLAIN',
        pool: false,
        retry: false,
        transcript: (e) => events.push(e),
      });
      await transport.sendRaw({ from: 'zhang@example.test', to: ['bob@example.test'] }, message);
      await transport.close();
      const ehloLines = events.filter(
        (e) => e.type === 'line' && e.direction === 'in' && e.line.startsWith('250'),
      );
      assert.ok(!ehloLines.some((e) => e.type === 'line' && /PIPELINING/i.test(e.line)));
      assert.deepEqual(firstGroupVerbs(events), ['AUTH']);
      const [m] = await server.waitForMessages(1);
      assert.equal(m?.authUser, 'carol');
      assert.equal(m?.data.toString('utf8'), message);
    } finally {
      await server.stop();
    }
  });
});

describe('client ⇄ smtp-server (npm)', () => {
  test('PIPELINING hidden: commands go one at a time and the message arrives exactly', async () => {
    const server = await startSmtpServer({ hidePIPELINING: true });
    try {
      const session = await SmtpSession.open({
        host: '127.0.0.1',
        port: server.port,
        tls: 'starttls',
        tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
      });
      assert.equal(session.capabilities.pipelining, false);
      assert.equal(session.capabilities.chunking, false);
      await session.send({ from: 'zhang@example.test', to: ['x@example.test', 'y@example.test'] }, message);
      await session.quit();
      const [m] = await server.waitForMessages(1);
      assert.equal(m?.data.toString('utf8'), message);
      assert.deepEqual(m?.envelope.rcptTo, ['x@example.test', 'y@example.test']);
    } finally {
      await server.stop();
    }
  });

  test('AUTH PLAIN pipelined with the first message: smtp-server authenticates, then takes the message', async () => {
    const server = await startSmtpServer({
      secure: true,
      authMethods: ['PLAIN', 'LOGIN'],
      users: [{ name: 'erin', password: 'pw-ss-1' }],
    });
    const events: TranscriptEvent[] = [];
    try {
      const transport = createTransport({
        host: '127.0.0.1',
        port: server.port,
        tls: 'implicit',
        tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
        auth: { user: 'erin', pass: 'pw-ss-1' },
        pool: { maxConnections: 1 },
        retry: false,
        transcript: (e) => events.push(e),
      });
      const results = await Promise.all(
        [1, 2, 3].map((n) =>
          transport.sendRaw({ from: 'a@example.test', to: [`r${n}@example.test`] }, message),
        ),
      );
      await transport.close();
      assert.deepEqual(firstGroupVerbs(events), ['AUTH', 'MAIL', 'RCPT', 'DATA']);
      assert.deepEqual(
        results.map((r) => r.accepted[0]),
        ['r1@example.test', 'r2@example.test', 'r3@example.test'],
      );
      const got = await server.waitForMessages(3);
      for (const m of got) {
        assert.equal(m.user, 'erin');
        assert.equal(m.data.toString('utf8'), message);
      }
      // One AUTH for the connection, none for the messages that followed on it.
      assert.equal(events.filter((e) => e.type === 'line' && e.line.startsWith('AUTH')).length, 1);
    } finally {
      await server.stop();
    }
  });

  test('XOAUTH2: a rejected token is refreshed once through the provider, then accepted', async () => {
    const server = await startSmtpServer({
      secure: true,
      authMethods: ['XOAUTH2'],
      users: [{ name: 'dana@example.test', accessToken: 'fresh-token-123' }],
    });
    const asked: boolean[] = [];
    try {
      const transport = createTransport({
        host: '127.0.0.1',
        port: server.port,
        tls: 'implicit',
        tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
        auth: {
          user: 'dana@example.test',
          accessToken: ({ refresh }) => {
            asked.push(refresh);
            return refresh ? 'fresh-token-123' : 'stale-token';
          },
        },
        pool: false,
      });
      const v = await transport.verify();
      await transport.close();
      assert.equal(v.authenticated?.mechanism, 'XOAUTH2');
      assert.deepEqual(asked, [false, true]);
    } finally {
      await server.stop();
    }
  });

  test('a wrong token that stays wrong fails with EAUTH_FAILED after one refresh', async () => {
    const server = await startSmtpServer({
      secure: true,
      authMethods: ['XOAUTH2'],
      users: [{ name: 'dana@example.test', accessToken: 'the-real-one' }],
    });
    let calls = 0;
    try {
      await assert.rejects(
        SmtpSession.open({
          host: '127.0.0.1',
          port: server.port,
          tls: 'implicit',
          tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
          auth: {
            user: 'dana@example.test',
            accessToken: () => {
              calls++;
              return 'always-wrong';
            },
          },
        }),
        (e) => e instanceof PosternError && e.code === 'EAUTH_FAILED' && !e.message.includes('always-wrong'),
      );
      assert.equal(calls, 2);
    } finally {
      await server.stop();
    }
  });

  test('TLS sessions are resumed across connections of one transport', async () => {
    const server = await startSmtpServer({ secure: true });
    try {
      const transport = createTransport({
        host: '127.0.0.1',
        port: server.port,
        tls: 'implicit',
        tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
        pool: false,
      });
      const results = [];
      for (let i = 0; i < 3; i++)
        results.push(await transport.sendRaw({ from: 'a@example.test', to: ['b@example.test'] }, message));
      await transport.close();
      assert.equal(results[0]?.tls?.resumed, false);
      assert.equal(results[2]?.tls?.resumed, true);
      await server.waitForMessages(3);
    } finally {
      await server.stop();
    }
  });

  test('a 100 MB message from a stream arrives complete (SHA-256 on both sides)', async () => {
    const server = await startSmtpServer({ secure: true, size: 200 * 1024 * 1024 });
    const line = Buffer.from(`${'0123456789'.repeat(7)}abcd\r\n`);
    const total = 100 * 1024 * 1024;
    const sent = createHash('sha256');
    function* body() {
      const header = Buffer.from('Subject: big\r\n\r\n');
      sent.update(header);
      yield header;
      const chunk = Buffer.concat(Array.from({ length: 862 }, () => line)); // ~65 KB of whole lines
      for (let n = header.length; n < total; n += chunk.length) {
        sent.update(chunk);
        yield chunk;
      }
    }
    try {
      const transport = createTransport({
        host: '127.0.0.1',
        port: server.port,
        tls: 'implicit',
        tlsOptions: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
        pool: false,
        retry: false,
      });
      const result = await transport.sendRaw(
        { from: 'a@example.test', to: ['b@example.test'] },
        Readable.from(body()),
      );
      await transport.close();
      const [m] = await server.waitForMessages(1, 60_000);
      assert.ok(result.bytes >= total);
      assert.equal(createHash('sha256').update(m!.data).digest('hex'), sent.digest('hex'));
    } finally {
      await server.stop();
    }
  });
});
