// The test harnesses themselves, proven with third-party clients only (swaks, Python's smtplib,
// nodemailer, openssl): a private Postfix + Dovecot, aiosmtpd and smtp-server each accept and store
// mail with the exact bytes, and each leaves no process and no temp dir behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { startAiosmtpd } from '../helpers/aiosmtpd.js';
import { testPki } from '../helpers/certs.js';
import { pidsMentioning } from '../helpers/cleanup.js';
import { peerSkip, SYSTEM_PYTHON } from '../helpers/peers.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { type PostfixInstance, startPostfix } from '../helpers/postfix.js';
import { RejectMessage, startSmtpServer } from '../helpers/smtp-server.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

const exec = promisify(execFile);

/** Runs a command; resolves with exit code and output instead of throwing on a non-zero exit. */
async function runTool(cmd: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  const child = execFile(cmd, args, { timeout: 30000, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  let out = '';
  child.stdout!.on('data', (d: string) => {
    out += d;
  });
  child.stderr!.on('data', (d: string) => {
    out += d;
  });
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? -1)));
  return { code, out };
}

async function swaks(args: string[]): Promise<string> {
  const { code, out } = await runTool('swaks', ['--helo', 'client.example.test', ...args]);
  assert.equal(code, 0, `swaks ${args.join(' ')} failed (exit ${code}):\n${out}`);
  return out;
}

function python(script: string, input?: string): Promise<{ code: number; out: string }> {
  return runTool(SYSTEM_PYTHON, ['-c', script], input);
}

const token = () => `tok-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

/** A message with a leading-dot line, a lone-dot line, and 8-bit UTF-8: what dot-stuffing must survive. */
function trickyMessage(tag: string): string {
  return [
    'From: Alice <alice@example.test>',
    'To: Bob <bob@example.test>',
    `Subject: harness ${tag}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `body ${tag}`,
    '.leading dot',
    '..two dots',
    '.',
    'héllo wörld 你好',
    '',
  ].join('\r\n');
}

describe('helpers: ports, temp dirs, PKI', () => {
  test('freePort gives distinct bindable ports; waitForPort sees a listener and times out without one', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    assert.equal(new Set(ports).size, ports.length);
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(ports[0], '127.0.0.1', r));
    try {
      await waitForPort(ports[0]!, '127.0.0.1', 1000);
    } finally {
      server.close();
    }
    const started = Date.now();
    await assert.rejects(waitForPort(ports[1]!, '127.0.0.1', 200), /nothing listening/);
    assert.ok(Date.now() - started < 2000);
  });

  test('tempDir is private to the test, traversable by daemons, and removed by removeTempDir', async () => {
    const a = await tempDir('harness');
    const b = await tempDir('harness');
    assert.notEqual(a, b);
    assert.equal(statSync(a).mode & 0o777, 0o755);
    await writeFile(join(a, 'x'), 'x');
    await removeTempDir(a);
    await removeTempDir(b);
    assert.equal(existsSync(a) || existsSync(b), false);
  });

  test('testPki: the leaf verifies against the CA with openssl and names localhost and 127.0.0.1', {
    skip: peerSkip('openssl'),
  }, async () => {
    const pki = await testPki();
    assert.equal(await testPki(), pki, 'memoised per process');
    const verify = await exec('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-CAfile',
      pki.caFile,
      pki.certFile,
    ]);
    assert.match(verify.stdout, /: OK/);
    const san = await exec('openssl', ['x509', '-in', pki.certFile, '-noout', '-ext', 'subjectAltName']);
    assert.match(san.stdout, /DNS:localhost/);
    assert.match(san.stdout, /IP Address:127\.0\.0\.1/);
    assert.equal(statSync(pki.keyFile).mode & 0o777, 0o600);
  });
});

describe('Postfix + Dovecot harness, with swaks', { skip: peerSkip('postfix', 'dovecot', 'swaks') }, () => {
  let pf: PostfixInstance;
  before(async () => {
    pf = await startPostfix();
  });
  after(async () => {
    await pf?.stop();
  });
  const user = () => pf.users[0]!;
  const verify = () => ['--tls-verify', '--tls-ca-path', pf.caFile];

  test('submission: AUTH only after STARTTLS, with every extension the client needs', async () => {
    const out = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(pf.ports.submission),
      '--tls',
      ...verify(),
      '--quit-after',
      'HELO',
    ]);
    // "<-" lines came in plaintext, "<~" lines under TLS.
    assert.match(out, /^<- {2}250-STARTTLS$/m);
    assert.doesNotMatch(out, /^<- {2}250[- ]AUTH/m);
    assert.match(out, /^<~ {2}250[- ]AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256$/m);
    for (const ext of [
      'PIPELINING',
      'CHUNKING',
      '8BITMIME',
      'SMTPUTF8',
      'DSN',
      'ENHANCEDSTATUSCODES',
      'SIZE 10240000',
    ]) {
      assert.match(out, new RegExp(`^<~ {2}250[- ]${ext}$`, 'm'), ext);
    }
  });

  for (const mechanism of ['PLAIN', 'CRAM-MD5'] as const) {
    test(`submission: STARTTLS + AUTH ${mechanism} delivers into the Maildir`, async () => {
      const tag = token();
      const rcpt = `${mechanism.toLowerCase()}@example.test`;
      await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(pf.ports.submission),
        '--tls',
        ...verify(),
        '--auth',
        mechanism,
        '--auth-user',
        user().name,
        '--auth-password',
        user().password,
        '--from',
        'alice@example.test',
        '--to',
        rcpt,
        '--header',
        `Subject: ${tag}`,
        '--body',
        `body ${tag}`,
      ]);
      const [file] = await pf.waitForMessages(rcpt, 1);
      assert.ok(file!.startsWith(join(pf.dir, 'mail', 'example.test', mechanism.toLowerCase(), 'new')));
      const [stored] = await pf.readMessages(rcpt);
      const text = stored!.toString('utf8');
      assert.match(text, /^Return-Path: <alice@example\.test>\nDelivered-To: /);
      assert.match(text, /with ESMTPSA id /);
      assert.match(text, new RegExp(`\\nSubject: ${tag}\\n`));
      assert.match(text, new RegExp(`\\n\\nbody ${tag}\\n`));
      assert.match(await pf.log(), new RegExp(`sasl_method=${mechanism}, sasl_username=${user().name}`));
    });
  }

  test('smtps (implicit TLS) + AUTH LOGIN: the stored message is the sent one, byte for byte (LF endings)', async () => {
    const tag = token();
    const data = trickyMessage(tag);
    // swaks sends the file, then CRLF.CRLF itself: the file holds the message minus its final CRLF.
    const dataFile = join(pf.dir, `${tag}.eml`);
    await writeFile(dataFile, data.slice(0, -2));
    await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(pf.ports.smtps),
      '--tls-on-connect',
      ...verify(),
      '--auth',
      'LOGIN',
      '--auth-user',
      user().name,
      '--auth-password',
      user().password,
      '--from',
      'alice@example.test',
      '--to',
      'Bob@Example.TEST',
      '--data',
      dataFile,
    ]);
    await pf.waitForMessages('bob', 1);
    const [stored] = await pf.readMessages('bob');
    const text = stored!.toString('utf8');
    const trace = text.slice(0, text.indexOf('From: Alice'));
    assert.match(trace, /^Return-Path: <alice@example\.test>\nDelivered-To: Bob@Example\.TEST\nReceived: /);
    assert.match(trace, /using TLSv1\.[23] with cipher/);
    assert.equal(text.slice(trace.length), data.replace(/\r\n/g, '\n'));
  });

  test('port 25 takes local mail without AUTH, refuses relaying; unknown* is an unknown user', async () => {
    const tag = token();
    await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(pf.ports.smtp),
      '--tls',
      ...verify(),
      '--from',
      'someone@remote.test',
      '--to',
      'carol@example.test',
      '--body',
      `mx ${tag}`,
    ]);
    await pf.waitForMessages('carol', 1);
    const [stored] = await pf.readMessages('carol');
    assert.match(stored!.toString(), new RegExp(`\\n\\nmx ${tag}\\n`));
    assert.match(stored!.toString(), /with ESMTPS id /);

    const relay = await runTool('swaks', [
      '--server',
      '127.0.0.1',
      '--port',
      String(pf.ports.smtp),
      '--to',
      'x@elsewhere.test',
    ]);
    assert.notEqual(relay.code, 0);
    assert.match(relay.out, /<\*\* 554 5\.7\.1 <x@elsewhere\.test>: Relay access denied/);
    const unknown = await runTool('swaks', [
      '--server',
      '127.0.0.1',
      '--port',
      String(pf.ports.smtp),
      '--to',
      'unknown-1@example.test',
    ]);
    assert.match(unknown.out, /<\*\* 550 5\.1\.1 <unknown-1@example\.test>: Recipient address rejected/);
  });

  test('submission refuses mail without STARTTLS, without AUTH, and with a wrong password', async () => {
    const port = String(pf.ports.submission);
    const plain = await runTool('swaks', [
      '--server',
      '127.0.0.1',
      '--port',
      port,
      '--to',
      'bob@example.test',
    ]);
    assert.match(plain.out, /<\*\* 530 5\.7\.0 Must issue a STARTTLS command first/);
    const noAuth = await runTool('swaks', [
      '--server',
      '127.0.0.1',
      '--port',
      port,
      '--tls',
      '--to',
      'bob@example.test',
    ]);
    assert.match(
      noAuth.out,
      /<~?\*\*? 554 5\.7\.1 <bob@example\.test>: Recipient address rejected: Access denied/,
    );
    const badPw = await runTool('swaks', [
      '--server',
      '127.0.0.1',
      '--port',
      port,
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      user().name,
      '--auth-password',
      'wrong',
      '--to',
      'bob@example.test',
    ]);
    assert.match(badPw.out, /<~?\*\*? 535 5\.7\.8 Error: authentication failed/);
    assert.match(await pf.dovecotLog(), /passwd-file\(alice,127\.0\.0\.1\): Password mismatch/);
  });

  test("authenticated relaying to another domain stays on this machine, in that domain's Maildir", async () => {
    const tag = token();
    await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(pf.ports.smtps),
      '--tls-on-connect',
      ...verify(),
      '--auth',
      'PLAIN',
      '--auth-user',
      user().name,
      '--auth-password',
      user().password,
      '--from',
      'alice@example.test',
      '--to',
      'dave@elsewhere.test',
      '--body',
      `relayed ${tag}`,
    ]);
    const [file] = await pf.waitForMessages('dave@elsewhere.test', 1);
    assert.match(await readFile(file!, 'utf8'), new RegExp(`relayed ${tag}`));
  });

  test('two instances run side by side, isolated, and stop() leaves no process and no dir', async () => {
    const [a, b] = await Promise.all([
      startPostfix(),
      startPostfix({ users: [{ name: 'zed', password: 'zed-pw' }] }),
    ]);
    try {
      assert.notEqual(a.dir, b.dir);
      const all = [...Object.values(a.ports), ...Object.values(b.ports), ...Object.values(pf.ports)];
      assert.equal(new Set(all).size, all.length);
      for (const [inst, name] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        const u = inst.users[0]!;
        await swaks([
          '--server',
          '127.0.0.1',
          '--port',
          String(inst.ports.submission),
          '--tls',
          '--auth',
          'PLAIN',
          '--auth-user',
          u.name,
          '--auth-password',
          u.password,
          '--to',
          'erin@example.test',
          '--body',
          `for ${name}`,
        ]);
      }
      const [fa] = await a.waitForMessages('erin', 1);
      const [fb] = await b.waitForMessages('erin', 1);
      assert.match(await readFile(fa!, 'utf8'), /\n\nfor a\n/);
      assert.match(await readFile(fb!, 'utf8'), /\n\nfor b\n/);
      assert.equal((await a.readMessages('erin')).length, 1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    for (const inst of [a, b]) {
      assert.deepEqual(pidsMentioning(inst.dir), [], `processes of ${inst.dir} left running`);
      assert.equal(existsSync(inst.dir), false, `${inst.dir} left behind`);
    }
  });

  test('options: tlsAuthOnly false offers AUTH in plaintext; mechanisms and messageSizeLimit apply', async () => {
    const weak = await startPostfix({
      tlsAuthOnly: false,
      mechanisms: ['PLAIN', 'CRAM-MD5'],
      messageSizeLimit: 2000000,
    });
    try {
      const u = weak.users[0]!;
      const port = String(weak.ports.submission);
      const ehlo = await swaks(['--server', '127.0.0.1', '--port', port, '--quit-after', 'EHLO']);
      assert.match(ehlo, /^<- {2}250-AUTH PLAIN CRAM-MD5$/m);
      assert.match(ehlo, /^<- {2}250-SIZE 2000000$/m);
      await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        port,
        '--auth',
        'PLAIN',
        '--auth-user',
        u.name,
        '--auth-password',
        u.password,
        '--to',
        'frank@example.test',
        '--body',
        'in clear',
      ]);
      const [file] = await weak.waitForMessages('frank', 1);
      assert.match(await readFile(file!, 'utf8'), /with ESMTPA id [\s\S]*\n\nin clear\n/);
    } finally {
      await weak.stop();
    }
  });

  test('a startup failure says why (postfix check + logs) and cleans up', async () => {
    const err: Error = await startPostfix({ extraMain: { inet_interfaces: '192.0.2.1' } }).then(
      () => assert.fail('started with an impossible inet_interfaces'),
      (e: Error) => e,
    );
    assert.match(err.message, /`postfix start` failed/);
    assert.match(err.message, /no local interface found for 192\.0\.2\.1/);
    assert.match(err.message, /--- dovecot log \(tail\) ---/);
    const dir = /instance dir (\S+?)[,)]/.exec(err.message)?.[1];
    assert.ok(dir, err.message);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(pidsMentioning(dir), []);
  });
});

describe('aiosmtpd harness, with Python smtplib', { skip: peerSkip('aiosmtpd') }, () => {
  test('STARTTLS required, then AUTH LOGIN; DATA stored with its exact bytes', async () => {
    const srv = await startAiosmtpd({
      tls: 'starttls',
      authUsers: [{ name: 'bob', password: 's3cret' }],
      smtputf8: true,
    });
    try {
      const tag = token();
      const data = trickyMessage(tag);
      const r = await python(
        `
import json, smtplib, ssl, sys
data = sys.stdin.buffer.read()
ctx = ssl.create_default_context(cafile=${JSON.stringify(srv.caFile)})
c = smtplib.SMTP('127.0.0.1', ${srv.port})
c.ehlo()
before = c.esmtp_features.copy()
code, _ = c.mail('alice@example.test')
c.rset()
c.starttls(context=ctx)
c.ehlo()
after = c.esmtp_features.copy()
c.login('bob', 's3cret')
c.sendmail('alice@example.test', ['bob@example.test', 'carol@example.test'], data)
c.quit()
print(json.dumps({"before": before, "after": after, "mailBeforeTls": code}))
`,
        data,
      );
      assert.equal(r.code, 0, r.out);
      const info = JSON.parse(r.out) as {
        before: Record<string, string>;
        after: Record<string, string>;
        mailBeforeTls: number;
      };
      assert.equal(info.mailBeforeTls, 530);
      assert.ok('starttls' in info.before && !('auth' in info.before));
      assert.equal(info.after['auth']?.trim(), 'LOGIN PLAIN');
      assert.ok('smtputf8' in info.after);
      const [msg] = await srv.waitForMessages(1);
      assert.equal(msg!.mailFrom, 'alice@example.test');
      assert.deepEqual(msg!.rcptTos, ['bob@example.test', 'carol@example.test']);
      assert.equal(msg!.authUser, 'bob');
      assert.equal(msg!.tls, true);
      assert.ok(msg!.data.equals(Buffer.from(data)), `got ${JSON.stringify(msg!.data.toString())}`);
    } finally {
      await srv.stop();
    }
    assert.deepEqual(pidsMentioning(srv.dir), []);
    assert.equal(existsSync(srv.dir), false);
  });

  test('implicit TLS (SMTP_SSL) and a wrong password is refused', async () => {
    const srv = await startAiosmtpd({ tls: 'implicit', authUsers: [{ name: 'bob', password: 's3cret' }] });
    try {
      const r = await python(`
import smtplib, ssl
ctx = ssl.create_default_context(cafile=${JSON.stringify(srv.caFile)})
c = smtplib.SMTP_SSL('127.0.0.1', ${srv.port}, context=ctx)
try:
    c.login('bob', 'nope')
    print('unexpected login')
except smtplib.SMTPAuthenticationError as e:
    print('refused', e.smtp_code)
c.login('bob', 's3cret')
c.sendmail('', ['x@example.test'], b'Subject: implicit\\r\\n\\r\\nok\\r\\n')
c.quit()
`);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /refused 535/);
      const [msg] = await srv.waitForMessages(1);
      assert.equal(msg!.mailFrom, '');
      assert.equal(msg!.data.toString(), 'Subject: implicit\r\n\r\nok\r\n');
    } finally {
      await srv.stop();
    }
  });
});

describe('smtp-server harness, with nodemailer', () => {
  test('STARTTLS required + AUTH PLAIN; raw message stored with its exact bytes', async () => {
    const srv = await startSmtpServer({ users: [{ name: 'bob', password: 'pw' }] });
    const pki = await testPki();
    try {
      const data = trickyMessage(token());
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.port,
        secure: false,
        requireTLS: true,
        tls: { ca: [pki.caCert], servername: 'localhost' },
        auth: { user: 'bob', pass: 'pw' },
      });
      const info = await transport.sendMail({
        envelope: { from: 'alice@example.test', to: ['bob@example.test', 'carol@example.test'] },
        raw: Buffer.from(data),
      });
      transport.close();
      assert.deepEqual(info.accepted, ['bob@example.test', 'carol@example.test']);
      const [msg] = await srv.waitForMessages(1);
      assert.equal(msg!.envelope.mailFrom, 'alice@example.test');
      assert.deepEqual(msg!.envelope.rcptTo, ['bob@example.test', 'carol@example.test']);
      assert.equal(msg!.user, 'bob');
      assert.equal(msg!.secure, true);
      assert.ok(msg!.data.equals(Buffer.from(data)), `got ${JSON.stringify(msg!.data.toString())}`);
    } finally {
      await srv.stop();
    }
  });

  test('implicit TLS with XOAUTH2 and CRAM-MD5; onData can reject', async () => {
    const srv = await startSmtpServer({
      secure: true,
      authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'],
      users: [{ name: 'bob', password: 'pw', accessToken: 'ya29.token' }],
      onData: (m) => {
        if (m.data.includes('REJECT-ME')) throw new RejectMessage('content refused', 554);
      },
    });
    const pki = await testPki();
    const base = {
      host: '127.0.0.1',
      port: srv.port,
      secure: true,
      tls: { ca: [pki.caCert], servername: 'localhost' },
    };
    try {
      const oauth = nodemailer.createTransport({
        ...base,
        auth: { type: 'OAuth2', user: 'bob', accessToken: 'ya29.token' },
      });
      await oauth.sendMail({
        envelope: { from: 'a@example.test', to: ['b@example.test'] },
        raw: 'Subject: x\r\n\r\noauth\r\n',
      });
      oauth.close();
      const cram = nodemailer.createTransport({
        ...base,
        auth: { user: 'bob', pass: 'pw' },
        authMethod: 'CRAM-MD5',
      });
      await cram.sendMail({
        envelope: { from: 'a@example.test', to: ['b@example.test'] },
        raw: 'Subject: y\r\n\r\ncram\r\n',
      });
      await assert.rejects(
        cram.sendMail({
          envelope: { from: 'a@example.test', to: ['b@example.test'] },
          raw: 'Subject: z\r\n\r\nREJECT-ME\r\n',
        }),
        (e: Error & { responseCode?: number }) => e.responseCode === 554,
      );
      cram.close();
      assert.deepEqual(
        srv.messages.map((m) => [m.user, m.data.toString()]),
        [
          ['bob', 'Subject: x\r\n\r\noauth\r\n'],
          ['bob', 'Subject: y\r\n\r\ncram\r\n'],
        ],
      );
    } finally {
      await srv.stop();
    }
  });
});
