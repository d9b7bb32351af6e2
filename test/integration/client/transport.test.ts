// Transport behaviour against a scripted loopback server that plays a well-behaved SMTP server:
// pool limits and rotation, rate limiting, SMTP extension parameters (DSN, SMTPUTF8, REQUIRETLS, SIZE).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createTransport, PosternError, SmtpSession, type TransportOptions } from '../../../src/index.js';
import { createCa, createCertificate } from '../../../src/tls/index.js';
import { type ScriptedConnection, startScriptedServer } from '../../helpers/scripted-server.js';

let ca: string;
let cert: string;
let key: string;

before(async () => {
  const root = await createCa({ commonName: 'Postern Test CA' });
  const leaf = await createCertificate({ commonName: 'localhost', altNames: ['IP:127.0.0.1'], issuer: root });
  ca = root.cert;
  cert = leaf.cert;
  key = leaf.key;
});

interface Served {
  commands: string[];
  messages: Buffer[];
}

/** A small, correct SMTP server loop over implicit TLS: records commands and messages. */
function mailServer(extensions: string[], served: Served) {
  return async (c: ScriptedConnection) => {
    c.reply(220, 'fake.example ESMTP');
    for (;;) {
      const line = await c.readLine(10_000);
      served.commands.push(line);
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') c.reply(250, ['fake.example', ...extensions]);
      else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP')
        c.reply(250, '2.0.0 ok');
      else if (verb === 'DATA') {
        c.reply(354, 'go');
        served.messages.push(await c.readUntil('\r\n.\r\n'));
        c.reply(250, `2.0.0 Ok: queued as Q${served.messages.length}`);
      } else if (verb === 'BDAT') {
        const [, size, last] = line.split(' ');
        served.messages.push(await c.readBytes(Number(size)));
        c.reply(250, last ? `2.0.0 Ok: queued as Q${served.messages.length}` : '2.0.0 chunk ok');
      } else if (verb === 'QUIT') {
        c.reply(221, 'bye');
        c.close();
        return;
      } else c.reply(502, '5.5.2 unknown');
    }
  };
}

/** A scripted mail server with these EHLO extensions over implicit TLS, and a session open to it. */
async function openSession(extensions: string[]) {
  const served: Served = { commands: [], messages: [] };
  const server = await startScriptedServer(mailServer(extensions, served), { tls: { cert, key } });
  const session = await SmtpSession.open({
    host: '127.0.0.1',
    port: server.port,
    tls: 'implicit',
    tlsOptions: { ca },
  });
  return { served, server, session };
}

const msg = 'Subject: t\r\n\r\nbody\r\n';

/** One message per connection over implicit TLS as user `u`, the way the AUTH pipelining tests send. */
function authTransport(port: number, pass: string, retry: TransportOptions['retry'] = false) {
  return createTransport({
    host: '127.0.0.1',
    port,
    tls: 'implicit',
    tlsOptions: { ca },
    auth: { user: 'u', pass },
    pool: false,
    retry,
  });
}

describe('transport', () => {
  test('pool: never more than maxConnections, rotated after maxMessages', async () => {
    const served: Served = { commands: [], messages: [] };
    const server = await startScriptedServer(mailServer(['PIPELINING'], served), { tls: { cert, key } });
    const transport = createTransport({
      host: '127.0.0.1',
      port: server.port,
      tls: 'implicit',
      tlsOptions: { ca },
      pool: { maxConnections: 2, maxMessages: 5 },
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          transport.sendRaw({ from: 'a@x.test', to: [`r${i}@x.test`] }, msg),
        ),
      );
      assert.equal(results.length, 20);
      assert.equal(served.messages.length, 20);
      // 20 messages, 5 per connection: at least 4 connections, at most 2 at once.
      assert.ok(server.connections >= 4 && server.connections <= 6, `connections: ${server.connections}`);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('pool: concurrent connections stay within the limit', async () => {
    let open = 0;
    let peak = 0;
    const served: Served = { commands: [], messages: [] };
    const loop = mailServer(['PIPELINING'], served);
    const server = await startScriptedServer(
      async (c) => {
        open++;
        peak = Math.max(peak, open);
        try {
          await loop(c);
        } finally {
          open--;
        }
      },
      { tls: { cert, key } },
    );
    const transport = createTransport({
      host: '127.0.0.1',
      port: server.port,
      tls: 'implicit',
      tlsOptions: { ca },
      pool: { maxConnections: 3 },
    });
    try {
      await Promise.all(
        Array.from({ length: 30 }, () => transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, msg)),
      );
      assert.ok(peak <= 3, `peak ${peak}`);
      assert.ok(peak >= 2, `peak ${peak}: the pool did not parallelise`);
    } finally {
      await transport.close();
      await server.close();
    }
    assert.equal(served.messages.length, 30);
  });

  test('rate limit spaces sends out', async () => {
    const served: Served = { commands: [], messages: [] };
    const server = await startScriptedServer(mailServer(['PIPELINING'], served), { tls: { cert, key } });
    const transport = createTransport({
      host: '127.0.0.1',
      port: server.port,
      tls: 'implicit',
      tlsOptions: { ca },
      rateLimit: { messages: 2, per: 300 },
    });
    try {
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 5 }, () => transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, msg)),
      );
      // 5 messages at 2 per 300 ms need at least two full windows.
      assert.ok(Date.now() - started >= 550, `took ${Date.now() - started} ms`);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('DSN, SIZE, BODY and SMTPUTF8 parameters follow what the server offers', async () => {
    const served: Served = { commands: [], messages: [] };
    const exts = ['PIPELINING', 'SIZE 100000', '8BITMIME', 'SMTPUTF8', 'DSN'];
    const server = await startScriptedServer(mailServer(exts, served), { tls: { cert, key } });
    try {
      const session = await SmtpSession.open({
        host: '127.0.0.1',
        port: server.port,
        tls: 'implicit',
        tlsOptions: { ca },
      });
      const body = 'Subject: ümlaut\r\n\r\nbody ✓\r\n';
      await session.send(
        {
          from: 'a@x.test',
          to: ['jörg@bücher.test', 'b+x=y@x.test'],
          dsn: { ret: 'HDRS', envid: 'id+1=2', notify: ['FAILURE', 'DELAY'], orcpt: true },
        },
        body,
      );
      await session.quit();
      const mail = served.commands.find((c) => c.startsWith('MAIL'));
      assert.equal(
        mail,
        `MAIL FROM:<a@x.test> SIZE=${Buffer.byteLength(body)} BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1+3D2`,
      );
      const rcpts = served.commands.filter((c) => c.startsWith('RCPT'));
      assert.equal(rcpts[0], 'RCPT TO:<jörg@bücher.test> NOTIFY=FAILURE,DELAY ORCPT=utf-8;jörg@bücher.test');
      assert.equal(rcpts[1], 'RCPT TO:<b+x=y@x.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b+2Bx+3Dy@x.test');
    } finally {
      await server.close();
    }
  });

  test('without SMTPUTF8: IDN domains become punycode, UTF-8 local parts and headers are refused', async () => {
    const { served, server, session } = await openSession(['PIPELINING', '8BITMIME']);
    try {
      await session.send({ from: 'a@x.test', to: ['info@bücher.test'] }, msg);
      assert.ok(served.commands.includes('RCPT TO:<info@xn--bcher-kva.test>'));
      for (const attempt of [
        () => session.send({ from: 'a@x.test', to: ['jörg@x.test'] }, msg),
        () => session.send({ from: 'a@x.test', to: ['b@x.test'] }, 'Subject: ümlaut\r\n\r\nx\r\n'),
      ]) {
        await assert.rejects(attempt(), (e) => e instanceof PosternError && e.code === 'ESMTPUTF8_REQUIRED');
      }
      // The session is still usable after input errors.
      await session.send({ from: 'a@x.test', to: ['b@x.test'] }, msg);
      await session.quit();
      assert.equal(served.messages.length, 2);
    } finally {
      await server.close();
    }
  });

  test('REQUIRETLS fails consistently when the server lacks it, and SIZE over the limit fails before sending', async () => {
    const { served, server, session } = await openSession(['PIPELINING', 'SIZE 100']);
    try {
      await assert.rejects(
        session.send({ from: 'a@x.test', to: ['b@x.test'], requireTls: true }, msg),
        (e) => e instanceof PosternError && e.code === 'EREQUIRETLS_UNSUPPORTED',
      );
      await assert.rejects(
        session.send({ from: 'a@x.test', to: ['b@x.test'] }, `Subject: big\r\n\r\n${'x'.repeat(200)}\r\n`),
        (e) => e instanceof PosternError && e.code === 'ESIZE_EXCEEDED' && !e.transient,
      );
      await session.quit();
      assert.equal(served.commands.filter((c) => c.startsWith('MAIL')).length, 0);
    } finally {
      await server.close();
    }
  });

  test('requireAllRecipients: nothing is sent when one recipient is refused', async () => {
    const commands: string[] = [];
    const server = await startScriptedServer(
      async (c) => {
        await c.greet('x', ['PIPELINING']);
        for (;;) {
          const line = await c.readLine(10_000);
          commands.push(line);
          if (line.startsWith('RCPT TO:<bad')) c.reply(550, '5.1.1 no such user');
          else if (line === 'DATA') {
            c.reply(354, 'go');
            await c.readUntil('\r\n.\r\n');
            c.reply(250, 'queued');
          } else if (line === 'QUIT') {
            c.reply(221, 'bye');
            return;
          } else c.reply(250, 'ok');
        }
      },
      { tls: { cert, key } },
    );
    try {
      const session = await SmtpSession.open({
        host: '127.0.0.1',
        port: server.port,
        tls: 'implicit',
        tlsOptions: { ca },
      });
      await assert.rejects(
        session.send({ from: 'a@x.test', to: ['good@x.test', 'bad@x.test'] }, msg, {
          requireAllRecipients: true,
        }),
        (e) => e instanceof PosternError && e.code === 'ENO_RECIPIENTS' && e.reply?.code === 550,
      );
      assert.equal(commands.includes('DATA'), false);
      // The server may still be mid-transaction: the next transaction starts with RSET, in the same write.
      await session.send({ from: 'a@x.test', to: ['good@x.test'] }, msg);
      await session.quit();
      const second = commands.lastIndexOf('MAIL FROM:<a@x.test>');
      assert.equal(commands[second - 1], 'RSET');
    } finally {
      await server.close();
    }
  });

  test('pipelining across transactions: the next message is written before the previous one is answered', async () => {
    const lines: string[] = [];
    const server = await startScriptedServer(
      async (c) => {
        await c.greet('x', ['PIPELINING', 'CHUNKING']);
        // Read both transactions completely before answering anything: a client that waits for the first
        // transaction's replies before writing the second would stall here.
        const takeTransaction = async () => {
          const seen: string[] = [];
          for (;;) {
            const line = await c.readLine();
            seen.push(line);
            const bdat = /^BDAT (\d+) LAST$/.exec(line);
            if (bdat) {
              await c.readBytes(Number(bdat[1]));
              return seen;
            }
          }
        };
        lines.push(...(await takeTransaction()), ...(await takeTransaction()));
        const replies = lines.map((l) => (l.startsWith('BDAT') ? '250 2.0.0 queued as Q' : '250 ok'));
        c.write(replies.map((r) => `${r}\r\n`).join(''));
        assert.equal(await c.readLine(), 'QUIT');
        c.reply(221, 'bye');
      },
      { tls: { cert, key } },
    );
    const transport = createTransport({
      host: '127.0.0.1',
      port: server.port,
      tls: 'implicit',
      tlsOptions: { ca },
      pool: { maxConnections: 1 },
    });
    try {
      const [a, b] = await Promise.all([
        transport.sendRaw({ from: 'a@x.test', to: ['one@x.test'] }, msg),
        transport.sendRaw({ from: 'a@x.test', to: ['two@x.test'] }, msg),
      ]);
      assert.deepEqual(a.accepted, ['one@x.test']);
      assert.deepEqual(b.accepted, ['two@x.test']);
      // The second transaction starts with RSET because the first was still in flight.
      assert.deepEqual(
        lines.map((l) => l.split(' ')[0]),
        ['MAIL', 'RCPT', 'BDAT', 'RSET', 'MAIL', 'RCPT', 'BDAT'],
      );
      assert.equal(server.connections, 1);
    } finally {
      await transport.close();
      await server.close();
    }
    assert.deepEqual(server.errors, []);
  });

  test('DATA pipelining across transactions: the next envelope rides with the message, with no RSET', async () => {
    const lines: string[] = [];
    const bodies: Buffer[] = [];
    const server = await startScriptedServer(async (c) => {
      await c.greet('x', ['PIPELINING']);
      const takeEnvelope = async () => {
        for (;;) {
          const line = await c.readLine();
          lines.push(line);
          if (line === 'DATA') return;
        }
      };
      await takeEnvelope();
      c.write('250 ok\r\n250 ok\r\n354 go\r\n');
      bodies.push(await c.readUntil('\r\n.\r\n'));
      // Nothing answered the first message yet: the second envelope arrives anyway (RFC 2920 §3.1: message
      // content may start a group), and it needs no RSET because the first transaction ended with its dot.
      await takeEnvelope();
      c.write('250 2.0.0 queued as A\r\n250 ok\r\n250 ok\r\n354 go\r\n');
      bodies.push(await c.readUntil('\r\n.\r\n'));
      c.reply(250, '2.0.0 queued as B');
      assert.equal(await c.readLine(), 'QUIT');
      c.reply(221, 'bye');
      // The first message's end and the second envelope left the client in one write.
      const joined = c.received.find((chunk) => chunk.includes('\r\n.\r\n'));
      assert.ok(
        joined?.includes('MAIL FROM:<a@x.test>'),
        'the second envelope shares a chunk with the first dot',
      );
    });
    const transport = createTransport({
      host: '127.0.0.1',
      port: server.port,
      tls: 'none',
      pool: { maxConnections: 1 },
    });
    try {
      const [a, b] = await Promise.all([
        transport.sendRaw({ from: 'a@x.test', to: ['one@x.test'] }, msg),
        transport.sendRaw({ from: 'a@x.test', to: ['two@x.test'] }, msg),
      ]);
      assert.equal(a.queueId, 'A');
      assert.equal(b.queueId, 'B');
      assert.deepEqual(lines, [
        'MAIL FROM:<a@x.test>',
        'RCPT TO:<one@x.test>',
        'DATA',
        'MAIL FROM:<a@x.test>',
        'RCPT TO:<two@x.test>',
        'DATA',
      ]);
      assert.equal(bodies.length, 2);
    } finally {
      await transport.close();
      await server.close();
    }
    assert.deepEqual(server.errors, []);
  });

  test('pipelined AUTH refused while MAIL, RCPT and DATA are accepted: no message byte is sent, the client hangs up', async () => {
    const afterData: string[] = [];
    let group: string[] = [];
    const server = await startScriptedServer(
      async (c) => {
        await c.greet('x', ['PIPELINING', 'AUTH PLAIN']);
        group = [await c.readLine(), await c.readLine(), await c.readLine(), await c.readLine()];
        // The worst server: it refuses the credentials but takes the transaction anyway.
        c.write('535 5.7.8 bad credentials\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n');
        try {
          for (;;) afterData.push(await c.readLine(2_000));
        } catch {
          // the client hung up (or stayed silent): either way it sent no message
        }
      },
      { tls: { cert, key } },
    );
    const transport = authTransport(server.port, 'wrong');
    try {
      await assert.rejects(
        transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, msg),
        (e) => e instanceof PosternError && e.code === 'EAUTH_FAILED' && e.reply?.code === 535,
      );
    } finally {
      await transport.close();
      await server.close();
    }
    assert.deepEqual(
      group.map((l) => l.split(' ')[0]),
      ['AUTH', 'MAIL', 'RCPT', 'DATA'],
    );
    assert.deepEqual(afterData, []);
    assert.deepEqual(server.errors, []);
  });

  test('a server that answers the pipelined AUTH with a challenge: the retry authenticates on its own first', async () => {
    const seen: string[][] = [];
    const server = await startScriptedServer(
      async (c, index) => {
        const lines: string[] = [];
        seen.push(lines);
        await c.greet('x', ['PIPELINING', 'AUTH PLAIN']);
        if (index === 0) {
          lines.push(await c.readLine());
          c.reply(334, '');
          try {
            for (;;) lines.push(await c.readLine(2_000));
          } catch {
            return;
          }
        }
        lines.push(await c.readLine());
        // Nothing may follow AUTH before its reply on this connection.
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(
          c.received.map(String).join('').split('\r\n').filter(Boolean).slice(-1)[0]?.split(' ')[0],
          'AUTH',
        );
        c.reply(235, '2.7.0 ok');
        for (;;) {
          const line = await c.readLine();
          lines.push(line);
          if (line.startsWith('MAIL') || line.startsWith('RCPT')) c.reply(250, 'ok');
          else if (line === 'DATA') {
            c.reply(354, 'go');
            await c.readUntil('\r\n.\r\n');
            c.reply(250, '2.0.0 queued as Q1');
          } else if (line === 'QUIT') {
            c.reply(221, 'bye');
            return;
          }
        }
      },
      { tls: { cert, key } },
    );
    const transport = authTransport(server.port, 'p', { retries: 1, minDelay: 1, maxDelay: 1 });
    try {
      const result = await transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, msg);
      assert.equal(result.queueId, 'Q1');
      assert.equal(result.attempts, 2);
    } finally {
      await transport.close();
      await server.close();
    }
    assert.equal(seen.length, 2);
    assert.equal(seen[0]?.[0]?.split(' ')[0], 'AUTH');
    assert.deepEqual(
      seen[1]?.slice(0, 4).map((l) => l.split(' ')[0]),
      ['AUTH', 'MAIL', 'RCPT', 'DATA'],
    );
    assert.deepEqual(server.errors, []);
  });

  test('without a pool, QUIT leaves with the message, in the same write (RFC 2920: QUIT may end a group)', async () => {
    let joined: boolean | undefined;
    const server = await startScriptedServer(async (c) => {
      await c.greet('x', ['PIPELINING']);
      for (let i = 0; i < 3; i++) await c.readLine();
      c.write('250 ok\r\n250 ok\r\n354 go\r\n');
      await c.readUntil('\r\n.\r\n');
      // QUIT came before the message was answered.
      assert.equal(await c.readLine(), 'QUIT');
      joined = c.received.some((chunk) => chunk.includes('\r\n.\r\nQUIT\r\n'));
      c.write('250 2.0.0 queued as Q9\r\n221 bye\r\n');
      c.close();
    });
    const transport = createTransport({ host: '127.0.0.1', port: server.port, tls: 'none', pool: false });
    try {
      const result = await transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, msg);
      assert.equal(result.queueId, 'Q9');
    } finally {
      await transport.close();
      await server.close();
    }
    assert.equal(joined, true);
    assert.deepEqual(server.errors, []);
  });

  test('without PIPELINING: AUTH waits for its 235, each command for its reply, and QUIT for the last message', async () => {
    const early: string[] = [];
    const server = await startScriptedServer(
      async (c) => {
        await c.greet('x', ['AUTH PLAIN']);
        // Each command must come alone: nothing more may be waiting when it is answered.
        const alone = async (verb: string, code: number) => {
          const line = await c.readLine();
          assert.equal(line.split(' ')[0], verb);
          await new Promise((r) => setTimeout(r, 30));
          const waiting = c.received.map(String).join('').split(line)[1] ?? '';
          if (waiting !== '\r\n') early.push(`${verb}: ${JSON.stringify(waiting)}`);
          c.reply(code, 'ok');
        };
        await alone('AUTH', 235);
        await alone('MAIL', 250);
        await alone('RCPT', 250);
        await alone('DATA', 354);
        await c.readUntil('\r\n.\r\n');
        await new Promise((r) => setTimeout(r, 30));
        if (!String(c.received.at(-1)).endsWith('\r\n.\r\n'))
          early.push('QUIT before the reply to the message');
        c.reply(250, '2.0.0 queued as Q2');
        assert.equal(await c.readLine(), 'QUIT');
        c.reply(221, 'bye');
      },
      { tls: { cert, key } },
    );
    const transport = authTransport(server.port, 'p');
    try {
      const result = await transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, msg);
      assert.equal(result.queueId, 'Q2');
    } finally {
      await transport.close();
      await server.close();
    }
    assert.deepEqual(early, []);
    assert.deepEqual(server.errors, []);
  });
});
