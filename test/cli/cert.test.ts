// `postern cert create` and `postern cert show`: files OpenSSL accepts, and what a file or a live server presents.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createCertificate, spkiSha256 } from '../../src/tls/index.js';
import { testPki } from '../helpers/certs.js';
import { peerSkip } from '../helpers/peers.js';
import { type SmtpServerInstance, startSmtpServer } from '../helpers/smtp-server.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './cli.js';

const run = promisify(execFile);

describe('postern cert', { concurrency: 4 }, () => {
  let home: string;
  let starttls: SmtpServerInstance;
  let implicit: SmtpServerInstance;
  const cli = (args: string[]) => runCli(['cert', ...args], { home });

  before(async () => {
    home = await tempDir('cli-cert');
    [starttls, implicit] = await Promise.all([startSmtpServer(), startSmtpServer({ secure: true })]);
  });
  after(async () => {
    await Promise.all([starttls?.stop(), implicit?.stop()]);
  });

  test('create --ca writes a CA and a leaf it signs; keys are 0600; OpenSSL reads and verifies them', async () => {
    const out = join(home, 'ca-and-leaf');
    const made = await cli([
      'create',
      '--ca',
      '--cn',
      'mail.example.test',
      '--san',
      'DNS:mail.example.test,IP:127.0.0.1',
      '--san',
      'DNS:smtp.example.test',
      '--out',
      out,
    ]);
    assert.equal(made.code, 0, made.stderr);
    for (const [name, mode] of [
      ['ca.pem', 0o644],
      ['ca-key.pem', 0o600],
      ['cert.pem', 0o644],
      ['key.pem', 0o600],
    ] as const) {
      assert.equal(statSync(join(out, name)).mode & 0o777, mode, name);
    }
    const pin = spkiSha256(readFileSync(join(out, 'cert.pem')));
    assert.match(made.stdout, new RegExp(`sha256/${pin.replace(/[+/]/g, '\\$&')}`));

    const skip = peerSkip('openssl');
    if (skip) return;
    const text = (await run('openssl', ['x509', '-noout', '-text', '-in', join(out, 'cert.pem')])).stdout;
    assert.match(text, /Subject: CN\s*=\s*mail\.example\.test/);
    assert.match(text, /DNS:mail\.example\.test, IP Address:127\.0\.0\.1, DNS:smtp\.example\.test/);
    assert.match(text, /TLS Web Server Authentication/);
    const verified = await run('openssl', ['verify', '-CAfile', join(out, 'ca.pem'), join(out, 'cert.pem')]);
    assert.match(verified.stdout, /: OK/);
    await run('openssl', ['pkey', '-noout', '-in', join(out, 'key.pem')]);
  });

  test('create: RSA keys, --issuer reuses a CA, existing files need --force, bad names are usage errors', async () => {
    const out = join(home, 'rsa');
    const rsa = await cli([
      'create',
      '--cn',
      'rsa.example.test',
      '--key',
      'rsa2048',
      '--days',
      '30',
      '--out',
      out,
    ]);
    assert.equal(rsa.code, 0, rsa.stderr);
    const again = await cli(['create', '--cn', 'rsa.example.test', '--out', out]);
    assert.equal(again.code, 73);
    assert.match(again.stderr, /already exist[\s\S]*--force/);
    const forced = await cli([
      'create',
      '--cn',
      'rsa.example.test',
      '--key',
      'rsa2048',
      '--out',
      out,
      '--force',
    ]);
    assert.equal(forced.code, 0, forced.stderr);

    const caDir = join(home, 'issuer-ca');
    assert.equal((await cli(['create', '--ca', '--cn', 'first.example.test', '--out', caDir])).code, 0);
    const second = join(home, 'issued');
    const issued = await cli(['create', '--issuer', caDir, '--cn', 'second.example.test', '--out', second]);
    assert.equal(issued.code, 0, issued.stderr);
    const shown = await cli(['show', join(second, 'cert.pem'), '--ca', join(caDir, 'ca.pem'), '--json']);
    assert.equal(JSON.parse(shown.stdout).verified, true);

    const badSan = await cli(['create', '--cn', 'x', '--san', 'IP:999.1.1.1', '--out', join(home, 'bad')]);
    assert.equal(badSan.code, 64);
    const badKey = await cli(['create', '--cn', 'x', '--key', 'dsa', '--out', join(home, 'bad')]);
    assert.equal(badKey.code, 64);
    const noCn = await cli(['create', '--out', join(home, 'bad')]);
    assert.equal(noCn.code, 64);

    if (peerSkip('openssl')) return;
    const text = (await run('openssl', ['x509', '-noout', '-text', '-in', join(out, 'cert.pem')])).stdout;
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /sha256WithRSAEncryption/);
  });

  test('show FILE: names, dates, days left, key, signature, pin, and chain problems', async () => {
    const pki = await testPki();
    const shown = await cli(['show', pki.certFile, '--ca', pki.caFile]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /subject\s+CN=localhost/);
    assert.match(shown.stdout, /alt names\s+DNS:localhost, IP:127\.0\.0\.1, IP:::1/);
    assert.match(shown.stdout, /issuer\s+O=Postern tests, CN=Postern Test CA/);
    assert.match(shown.stdout, /\(\d+ days left\)/);
    assert.match(shown.stdout, /key\s+EC P-256 \(prime256v1\)/);
    assert.match(shown.stdout, /signature\s+ecdsa-with-SHA256/);
    assert.match(
      shown.stdout,
      new RegExp(`SPKI pin\\s+sha256/${spkiSha256(pki.serverCert).replace(/[+/]/g, '\\$&')}`),
    );
    assert.match(shown.stdout, /✓ chains to/);
    assert.match(shown.stdout, /Problems\s+none found/);

    const expired = await createCertificate({
      commonName: 'old.example.test',
      keyType: 'rsa2048',
      notBefore: new Date(Date.now() - 400 * 86_400_000),
      notAfter: new Date(Date.now() - 10 * 86_400_000),
    });
    const expiredFile = join(home, 'expired.pem');
    await writeFile(expiredFile, expired.cert);
    const old = await cli(['show', expiredFile, '--ca', pki.caFile, '--json']);
    assert.equal(old.code, 0, old.stderr);
    const json = JSON.parse(old.stdout);
    assert.equal(json.verified, false);
    assert.equal(json.certificates[0].keyBits, 2048);
    assert.ok(
      json.problems.some((p: string) => /expired on/.test(p)),
      json.problems.join('\n'),
    );
    assert.ok(json.problems.some((p: string) => /not among the trusted certificates/.test(p)));

    const missing = await cli(['show', join(home, 'nope.pem')]);
    assert.equal(missing.code, 66);
    const garbage = join(home, 'garbage.pem');
    await writeFile(garbage, 'not a certificate\n');
    assert.equal((await cli(['show', garbage])).code, 65);
  });

  test('show HOST:PORT --starttls: the presented chain and why it does (not) verify', async () => {
    const pki = await testPki();
    const target = `127.0.0.1:${starttls.port}`;
    const untrusted = await cli(['show', target, '--starttls']);
    assert.equal(untrusted.code, 0, untrusted.stderr);
    assert.match(untrusted.stdout, /Certificate 1 of 1 \(leaf\)/);
    assert.match(untrusted.stdout, /Connection\s+TLSv1\.[23]/);
    assert.match(
      untrusted.stdout,
      /✗ does not verify against the system roots: .*not issued by a trusted CA/,
    );
    assert.match(untrusted.stdout, /hint: pass the issuing CA certificate as --ca FILE/);

    const trusted = await cli(['show', target, '--starttls', '--ca', pki.caFile, '--json']);
    const json = JSON.parse(trusted.stdout);
    assert.equal(json.verified, true);
    assert.equal(json.connection.identity, '127.0.0.1');
    assert.equal(json.certificates[0].subject, 'CN=localhost');

    const wrongName = await cli([
      'show',
      target,
      '--starttls',
      '--ca',
      pki.caFile,
      '--servername',
      'mail.other.test',
      '--json',
    ]);
    const mismatch = JSON.parse(wrongName.stdout);
    assert.equal(mismatch.verified, false);
    assert.equal(mismatch.verifyError.code, 'ETLS_CERT_NAME_MISMATCH');

    const plaintext = await cli(['show', target]);
    assert.equal(plaintext.code, 78);
    assert.match(plaintext.stderr, /add --starttls/);
  });

  test('show HOST:PORT with implicit TLS; an unknown host is 68', async () => {
    const pki = await testPki();
    const shown = await cli(['show', `localhost:${implicit.port}`, '--ca', pki.caFile]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /✓ verifies against .* for "localhost"/);
    const unknown = await cli(['show', 'mail.postern-test.invalid:465']);
    assert.equal(unknown.code, 68);
  });
});
