// `postern` with mail software nobody here wrote: a certificate from `postern cert create` serves as Postfix's
// smtpd_tls_cert_file, `postern send` delivers through that Postfix (Dovecot SASL) trusting the new CA, and
// `postern cert show` verifies what Postfix presents; `postern send` through aiosmtpd (Python) over implicit TLS.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { type AiosmtpdInstance, startAiosmtpd } from '../helpers/aiosmtpd.js';
import { peerSkip } from '../helpers/peers.js';
import { type PostfixInstance, startPostfix } from '../helpers/postfix.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './cli.js';

describe('postern cert create + send + cert show with Postfix', {
  skip: peerSkip('postfix', 'dovecot'),
}, () => {
  let home: string;
  let certs: string;
  let pf: PostfixInstance;
  before(async () => {
    home = await tempDir('cli-postfix');
    certs = join(home, 'tls');
    const made = await runCli(
      [
        'cert',
        'create',
        '--ca',
        '--cn',
        'mail.example.test',
        '--san',
        'DNS:mail.example.test,IP:127.0.0.1',
        '--out',
        certs,
      ],
      { home },
    );
    assert.equal(made.code, 0, made.stderr);
    pf = await startPostfix({ cert: { certFile: join(certs, 'cert.pem'), keyFile: join(certs, 'key.pem') } });
  });
  after(async () => {
    await pf?.stop();
  });

  test('Postfix serves the new certificate; send over STARTTLS and implicit TLS trusts it with --ca', async () => {
    const user = pf.users[0]!;
    const env = { MAIL_PW: user.password };
    const common = [
      '--host',
      '127.0.0.1',
      '--ca',
      join(certs, 'ca.pem'),
      '--user',
      user.name,
      '--password-env',
      'MAIL_PW',
    ];
    const submission = await runCli(
      [
        'send',
        ...common,
        '--port',
        String(pf.ports.submission),
        '--from',
        'Alice <alice@example.test>',
        '--to',
        'bob@example.test',
        '--subject',
        'Grüße aus Postfix — 你好',
        '--text',
        'über STARTTLS',
        '--json',
      ],
      { home, env },
    );
    assert.equal(submission.code, 0, submission.stderr);
    const result = JSON.parse(submission.stdout);
    assert.equal(result.tls.certificate.subject, 'CN=mail.example.test');
    assert.match(result.queueId, /^[0-9A-Za-z]+$/);

    const implicit = await runCli(
      [
        'send',
        ...common,
        '--port',
        String(pf.ports.smtps),
        '--tls',
        'implicit',
        '--auth',
        'SCRAM-SHA-256',
        '--from',
        'alice@example.test',
        '--to',
        'bob@example.test',
        '--subject',
        'implicit',
        '--text',
        'over implicit TLS',
        '-v',
      ],
      { home, env },
    );
    assert.equal(implicit.code, 0, implicit.stderr);
    assert.match(implicit.stderr, /AUTH SCRAM-SHA-256/);
    assert.ok(!implicit.stderr.includes(user.password));

    const files = await pf.waitForMessages('bob', 2);
    assert.equal(files.length, 2);
    const stored = await pf.readMessages('bob');
    const subjects = await Promise.all(stored.map(async (m) => (await simpleParser(m)).subject));
    assert.deepEqual(subjects.sort(), ['Grüße aus Postfix — 你好', 'implicit']);

    const wrong = await runCli(
      [
        'send',
        ...common.slice(0, 6),
        '--password-env',
        'NOPE',
        '--port',
        String(pf.ports.submission),
        '--from',
        'alice@example.test',
        '--to',
        'bob@example.test',
      ],
      { home, env: { NOPE: 'not-it' } },
    );
    assert.equal(wrong.code, 77, wrong.stderr);
  });

  test('cert show verifies what Postfix presents after STARTTLS against the new CA', async () => {
    const target = `127.0.0.1:${pf.ports.submission}`;
    const shown = await runCli(
      ['cert', 'show', target, '--starttls', '--ca', join(certs, 'ca.pem'), '--json'],
      { home },
    );
    assert.equal(shown.code, 0, shown.stderr);
    const json = JSON.parse(shown.stdout);
    assert.equal(json.verified, true);
    assert.equal(json.certificates[0].subject, 'CN=mail.example.test');
    const untrusted = await runCli(['cert', 'show', target, '--starttls'], { home });
    assert.match(untrusted.stdout, /✗ does not verify/);
  });
});

describe('postern send through aiosmtpd', { skip: peerSkip('aiosmtpd') }, () => {
  let server: AiosmtpdInstance;
  let home: string;
  before(async () => {
    home = await tempDir('cli-aiosmtpd');
    server = await startAiosmtpd({ tls: 'implicit', authUsers: [{ name: 'carol', password: 'carol-pw-7' }] });
  });
  after(async () => {
    await server?.stop();
  });

  test('implicit TLS with AUTH LOGIN; the stored message parses back', async () => {
    const run = await runCli(
      [
        'send',
        '--server',
        `smtps://carol@127.0.0.1:${server.port}`,
        '--ca',
        server.caFile,
        '--password-env',
        'PW',
        '--auth',
        'LOGIN',
        '--from',
        'carol@example.test',
        '--to',
        'dan@example.test',
        '--subject',
        'Привет',
        '--text',
        'from the CLI',
      ],
      { home, env: { PW: 'carol-pw-7' } },
    );
    assert.equal(run.code, 0, run.stderr);
    const [message] = await server.waitForMessages(1);
    assert.equal(message!.authUser, 'carol');
    assert.equal(message!.tls, true);
    const parsed = await simpleParser(message!.data);
    assert.equal(parsed.subject, 'Привет');
    assert.equal(parsed.text?.trim(), 'from the CLI');
  });
});
