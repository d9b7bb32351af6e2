// Our client against Postfix + Dovecot SASL (Debian), private instance on loopback ports:
// implicit TLS and STARTTLS with every SASL mechanism Dovecot offers; the message arrives byte-identical.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  createTransport,
  PosternError,
  SmtpSession,
  type TlsMode,
  type TranscriptEvent,
} from '../../src/index.js';
import { peerSkip } from '../helpers/peers.js';
import { type PostfixInstance, startPostfix } from '../helpers/postfix.js';
import { firstGroupAfterEhlo } from '../helpers/transcript.js';

const skip = peerSkip('postfix', 'dovecot');

/** Postfix's virtual(8) stores LF line endings and prepends its own trace headers. */
function assertDelivered(stored: Buffer, sent: string): void {
  const expected = sent.replace(/\r\n/g, '\n');
  const text = stored.toString('utf8');
  assert.ok(text.endsWith(expected), `stored message does not end with the sent one:\n${text.slice(-400)}`);
}

function message(tag: string): string {
  return [
    'From: Alice <alice@example.test>',
    'To: Bob <bob@example.test>',
    `Subject: =?UTF-8?B?${Buffer.from(`测试 ${tag}`).toString('base64')}?=`,
    `Message-ID: <${tag}.${Date.now()}@example.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `body for ${tag}`,
    '.leading dot',
    '..two dots',
    '.',
    'héllo wörld 你好',
    '',
  ].join('\r\n');
}

describe('client ⇄ Postfix + Dovecot SASL', { skip }, () => {
  let pf: PostfixInstance;
  let ca: string;
  before(async () => {
    pf = await startPostfix({});
    ca = readFileSync(pf.caFile, 'utf8');
  });
  after(async () => {
    await pf?.stop();
  });

  const user = () => pf.users[0]!;
  let delivered = 0;

  for (const mode of ['implicit', 'starttls'] as const satisfies readonly TlsMode[]) {
    for (const mechanism of ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256']) {
      test(`${mode} + AUTH ${mechanism}: delivered byte-identical`, async () => {
        const tag = `${mode}-${mechanism}`;
        const body = message(tag);
        const transport = createTransport({
          host: '127.0.0.1',
          port: mode === 'implicit' ? pf.ports.smtps : pf.ports.submission,
          tls: mode,
          tlsOptions: { ca, servername: 'localhost' },
          auth: { user: user().name, pass: user().password },
          authMethod: mechanism,
          pool: false,
          retry: false,
        });
        try {
          const result = await transport.sendRaw(
            { from: 'alice@example.test', to: ['bob@example.test'] },
            body,
          );
          assert.deepEqual(result.accepted, ['bob@example.test']);
          assert.match(result.queueId ?? '', /^[0-9A-Za-z]+$/);
          assert.equal(result.tls?.version === 'TLSv1.3' || result.tls?.version === 'TLSv1.2', true);
        } finally {
          await transport.close();
        }
        delivered++;
        const files = await pf.waitForMessages('bob', delivered);
        const stored = readFileSync(files[files.length - 1]!);
        assertDelivered(stored, body);
      });
    }
  }

  test('strongest mechanism is chosen by default (SCRAM-SHA-256) and verify() reports it', async () => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: pf.ports.submission,
      tlsOptions: { ca, servername: 'localhost' },
      auth: { user: user().name, pass: user().password },
    });
    try {
      const v = await transport.verify();
      assert.equal(v.authenticated?.mechanism, 'SCRAM-SHA-256');
      assert.ok(v.capabilities.pipelining);
      assert.ok(v.capabilities.chunking);
      assert.ok(v.tls);
    } finally {
      await transport.close();
    }
  });

  test('wrong password → EAUTH_FAILED with the 535 reply', async () => {
    await assert.rejects(
      SmtpSession.open({
        host: '127.0.0.1',
        port: pf.ports.submission,
        tlsOptions: { ca, servername: 'localhost' },
        auth: { user: user().name, pass: 'definitely-wrong' },
        authMethod: 'PLAIN',
      }),
      (err) => err instanceof PosternError && err.code === 'EAUTH_FAILED' && err.reply?.code === 535,
    );
  });

  test('pipelined DATA path (CHUNKING off): several recipients, one refused by Postfix', async () => {
    const body = message('data-path');
    const session = await SmtpSession.open({
      host: '127.0.0.1',
      port: pf.ports.submission,
      tlsOptions: { ca, servername: 'localhost' },
      auth: { user: user().name, pass: user().password },
      chunking: false,
    });
    try {
      const result = await session.send(
        {
          from: 'alice@example.test',
          to: ['carol@example.test', 'unknown-x@example.test', 'dave@example.test'],
        },
        body,
      );
      assert.equal(result.method, 'DATA');
      assert.deepEqual(result.accepted, ['carol@example.test', 'dave@example.test']);
      assert.equal(result.rejected.length, 1);
      assert.equal(result.rejected[0]?.address, 'unknown-x@example.test');
      assert.equal(result.rejected[0]?.reply.code, 550);
      assert.equal(result.rejected[0]?.reply.enhanced, '5.1.1');
    } finally {
      await session.quit();
    }
    for (const who of ['carol', 'dave']) {
      const files = await pf.waitForMessages(who, 1);
      assertDelivered(readFileSync(files[0]!), body);
    }
  });

  test('AUTH PLAIN rides in one pipelined group with the first message (RFC 4954 §4) and Postfix takes it', async () => {
    const body = message('pipelined-auth');
    const events: TranscriptEvent[] = [];
    const transport = createTransport({
      host: '127.0.0.1',
      port: pf.ports.submission,
      tlsOptions: { ca, servername: 'localhost' },
      auth: { user: user().name, pass: user().password },
      authMethod: 'PLAIN',
      chunking: false,
      pool: false,
      retry: false,
      transcript: (e) => events.push(e),
    });
    try {
      const result = await transport.sendRaw(
        { from: 'alice@example.test', to: ['frank@example.test'] },
        body,
      );
      assert.equal(result.method, 'DATA');
      assert.deepEqual(result.accepted, ['frank@example.test']);
    } finally {
      await transport.close();
    }
    assert.deepEqual(firstGroupAfterEhlo(events), [
      'AUTH PLAIN [redacted]',
      `MAIL FROM:<alice@example.test> SIZE=${Buffer.byteLength(body)} BODY=8BITMIME`,
      'RCPT TO:<frank@example.test>',
      'DATA',
    ]);
    const files = await pf.waitForMessages('frank', 1);
    assertDelivered(readFileSync(files[0]!), body);
    // Postfix saw an authenticated submission.
    assert.match(readFileSync(files[0]!, 'utf8'), /with ESMTPSA/);
  });

  test('a wrong password in the pipelined group: EAUTH_FAILED, and no message reaches Postfix', async () => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: pf.ports.submission,
      tlsOptions: { ca, servername: 'localhost' },
      auth: { user: user().name, pass: 'not-the-password' },
      authMethod: 'PLAIN',
      chunking: false,
      pool: false,
      retry: false,
    });
    try {
      await assert.rejects(
        transport.sendRaw({ from: 'alice@example.test', to: ['gina@example.test'] }, message('refused')),
        (e) => e instanceof PosternError && e.code === 'EAUTH_FAILED' && e.reply?.code === 535,
      );
    } finally {
      await transport.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await pf.readMessages('gina'), []);
    assert.doesNotMatch(await pf.log(), /to=<gina@example\.test>.*status=sent/);
  });

  test('a streamed 1.5 MB message of unknown size goes over BDAT in chunks and arrives intact', async () => {
    const line = `${'x'.repeat(74)}\r\n`;
    const lines = 20_000;
    const body = `Subject: big\r\n\r\n${line.repeat(lines)}`;
    const session = await SmtpSession.open({
      host: '127.0.0.1',
      port: pf.ports.submission,
      tlsOptions: { ca, servername: 'localhost' },
      auth: { user: user().name, pass: user().password },
    });
    try {
      const result = await session.send(
        { from: 'alice@example.test', to: ['erin@example.test'] },
        Readable.from(
          (function* () {
            yield Buffer.from('Subject: big\r\n\r\n');
            for (let i = 0; i < lines; i += 1000) yield Buffer.from(line.repeat(1000));
          })(),
        ),
      );
      assert.equal(result.method, 'BDAT');
    } finally {
      await session.quit();
    }
    const files = await pf.waitForMessages('erin', 1);
    assertDelivered(readFileSync(files[0]!), body);
  });
});
