// The certificate probe of `postern audit` against servers nobody here wrote — Postfix (STARTTLS and implicit TLS),
// openssl s_server — and Postern's own server: trust with and without the CA, self-signed, expired, wrong name,
// RSA 1024, SHA-1, OCSP stapling and session resumption by ID and by ticket.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { checkCertificate } from '../../src/audit/certificate.js';
import type { AuditTarget, CertificateResult } from '../../src/audit/types.js';
import { createCertificate, spkiSha256 } from '../../src/tls/index.js';
import { type TestPki, testPki } from '../helpers/certs.js';
import { type OpensslServer, startOpensslServer } from '../helpers/openssl-server.js';
import { peerSkip } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';
import { type PostfixInstance, startPostfix } from '../helpers/postfix.js';
import { tempDir } from '../helpers/tmp.js';
import { startServer, type TestServer } from '../integration/server/harness.js';

const run = promisify(execFile);
const DAY = 86_400_000;
const LOCAL_NAMES = ['DNS:localhost', 'IP:127.0.0.1'];

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

interface Files {
  readonly certFile: string;
  readonly keyFile: string;
}

async function writePair(dir: string, name: string, pair: { cert: string; key: string }): Promise<Files> {
  const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  await writeFile(files.certFile, pair.cert);
  await writeFile(files.keyFile, pair.key, { mode: 0o600 });
  return files;
}

/** A leaf for localhost signed by the test CA with openssl: an RSA 1024 key, or a SHA-1 signature. */
async function opensslLeaf(
  dir: string,
  pki: TestPki,
  name: string,
  key: string[],
  digest: string,
): Promise<Files> {
  const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  await writeFile(
    join(dir, 'leaf.ext'),
    `subjectAltName=${LOCAL_NAMES.join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  await openssl(
    [
      'req',
      '-new',
      ...key,
      '-nodes',
      '-keyout',
      files.keyFile,
      '-out',
      `${name}.csr`,
      '-subj',
      '/CN=localhost',
    ],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      pki.caFile,
      '-CAkey',
      join(pki.dir, 'ca.key'),
      '-set_serial',
      String(Date.now()),
      '-days',
      '30',
      `-${digest}`,
      '-extfile',
      'leaf.ext',
      '-out',
      files.certFile,
    ],
    dir,
  );
  return files;
}

/** A stapled OCSP response ("good") for `leaf`, signed by the test CA, as `openssl ocsp` makes it. */
async function ocspResponse(dir: string, pki: TestPki, leaf: string): Promise<string> {
  const { stdout } = await run('openssl', ['x509', '-in', leaf, '-noout', '-serial']);
  const serial = stdout.trim().split('=')[1]!;
  const expiry = new Date(Date.now() + 30 * DAY).toISOString().replace(/[-:T]/g, '').slice(2, 14);
  await writeFile(join(dir, 'index.txt'), `V\t${expiry}Z\t\t${serial}\tunknown\t/CN=localhost\n`);
  await openssl(['ocsp', '-issuer', pki.caFile, '-cert', leaf, '-no_nonce', '-reqout', 'ocsp-req.der'], dir);
  const key = join(pki.dir, 'ca.key');
  await openssl(
    ['ocsp', '-index', 'index.txt', '-CA', pki.caFile, '-rsigner', pki.caFile, '-rkey', key].concat([
      '-reqin',
      'ocsp-req.der',
      '-respout',
      'ocsp-resp.der',
      '-ndays',
      '1',
    ]),
    dir,
  );
  return join(dir, 'ocsp-resp.der');
}

const implicit = (port: number, extra: Partial<AuditTarget> = {}): AuditTarget => ({
  host: '127.0.0.1',
  port,
  mode: 'implicit',
  timeout: 5000,
  ...extra,
});

function leafOf(result: CertificateResult) {
  const leaf = result.chain[0];
  assert.ok(leaf, 'no certificate in the chain');
  return leaf;
}

describe('checkCertificate against Postfix', { skip: peerSkip('postfix', 'dovecot') }, () => {
  let pki: TestPki;
  let postfix: PostfixInstance;
  let expired: PostfixInstance;
  let expiredPem: string;

  before(async () => {
    pki = await testPki();
    const dir = await tempDir('audit-cert-postfix');
    const old = await createCertificate({
      commonName: 'localhost',
      altNames: LOCAL_NAMES,
      issuer: { cert: pki.caCert, key: pki.caKey },
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 10 * DAY),
    });
    expiredPem = old.cert;
    const cert = await writePair(dir, 'expired', old);
    [postfix, expired] = await Promise.all([startPostfix(), startPostfix({ cert })]);
  });
  after(async () => {
    await Promise.all([postfix?.stop(), expired?.stop()]);
  });

  test('STARTTLS with the test CA: trusted, names matched, the chain as sent; tickets resume', async () => {
    const ca = readFileSync(pki.caFile);
    const target: AuditTarget = {
      host: '127.0.0.1',
      port: postfix.ports.submission,
      mode: 'starttls',
      timeout: 5000,
    };
    const result = await checkCertificate(target, {
      ca,
      names: ['localhost', 'mx.elsewhere.test'],
      pin: `sha256/${spkiSha256(pki.serverCert)}`,
    });
    assert.equal(result.trusted, true);
    assert.equal(result.verifyError, undefined);
    assert.equal(result.nameMatches, true);
    assert.deepEqual(result.namesChecked, ['127.0.0.1', 'localhost', 'mx.elsewhere.test']);
    assert.deepEqual(result.namesMatched, ['127.0.0.1', 'localhost']);
    assert.equal(result.pinMatches, true);
    assert.equal(result.chain.length, 1, 'Postfix sends the leaf only');
    const leaf = leafOf(result);
    assert.equal(leaf.subject, 'CN=localhost');
    assert.equal(leaf.issuer, 'O=Postern tests, CN=Postern Test CA');
    assert.equal(Buffer.from(leaf.der, 'base64').toString('base64'), leaf.der);
    assert.equal(leaf.spkiSha256, spkiSha256(pki.serverCert));
    assert.match(result.negotiated.version, /^TLSv1\.[23]$/);
    assert.equal(result.ocspStapled, false);
    // Postfix issues session tickets (tlsmgr keys); without smtpd_tls_session_cache_database it keeps no ID cache.
    assert.equal(result.ticketResumption, true);
    assert.equal(result.sessionIdResumption, false);
  });

  test('implicit TLS without the CA: untrusted, and OpenSSL says why', async () => {
    const result = await checkCertificate(implicit(postfix.ports.smtps));
    assert.equal(result.trusted, false);
    // The leaf alone, issued by a CA the default roots do not have.
    assert.equal(result.verifyError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(result.nameMatches, true, 'the name is right even though the chain is not trusted');
  });

  test('an expired certificate: CERT_HAS_EXPIRED, negative days left', async () => {
    const result = await checkCertificate(implicit(expired.ports.smtps), { ca: readFileSync(pki.caFile) });
    assert.equal(result.trusted, false);
    assert.equal(result.verifyError, 'CERT_HAS_EXPIRED');
    const leaf = leafOf(result);
    assert.ok(leaf.daysLeft <= -10, `daysLeft ${leaf.daysLeft}`);
    assert.equal(leaf.spkiSha256, spkiSha256(expiredPem));
  });

  test('a name the certificate does not hold: the chain is trusted, the name does not match', async () => {
    const result = await checkCertificate(implicit(postfix.ports.smtps, { servername: 'mail.other.test' }), {
      ca: readFileSync(pki.caFile),
    });
    assert.equal(result.trusted, true);
    assert.equal(result.nameMatches, false);
    assert.deepEqual(result.namesChecked, ['mail.other.test']);
    assert.deepEqual(result.namesMatched, []);
  });
});

describe('checkCertificate against openssl s_server', { skip: peerSkip('openssl') }, () => {
  let pki: TestPki;
  const servers: Record<string, OpensslServer> = {};
  let selfSignedPem: string;

  before(async () => {
    pki = await testPki();
    const dir = await tempDir('audit-cert-openssl');
    const self = await createCertificate({ commonName: 'localhost', altNames: LOCAL_NAMES });
    selfSignedPem = self.cert;
    const [selfSigned, rsa1024, sha1] = await Promise.all([
      writePair(dir, 'self', self),
      opensslLeaf(dir, pki, 'rsa1024', ['-newkey', 'rsa:1024'], 'sha256'),
      opensslLeaf(dir, pki, 'sha1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'], 'sha1'),
    ]);
    const stapled = await ocspResponse(dir, pki, pki.certFile);
    const good = { certFile: pki.certFile, keyFile: pki.keyFile };
    // Debian's OpenSSL refuses to serve an RSA 1024 key or a SHA-1 signature above security level 0.
    const weak = ['-cipher', 'DEFAULT:@SECLEVEL=0'];
    const started = await Promise.all([
      startOpensslServer(good, ['-status_file', stapled]),
      startOpensslServer(good, ['-no_ticket', '-no_cache']),
      startOpensslServer(selfSigned),
      startOpensslServer(rsa1024, weak),
      startOpensslServer(sha1, weak),
    ]);
    [servers.stapled, servers.noResumption, servers.selfSigned, servers.rsa1024, servers.sha1] = started;
  });
  after(async () => {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  });

  test('OCSP stapling, and resumption by session ID and by ticket (s_server keeps a session cache)', async () => {
    const result = await checkCertificate(implicit(servers.stapled!.port), { ca: readFileSync(pki.caFile) });
    assert.equal(result.trusted, true);
    assert.equal(result.ocspStapled, true);
    assert.equal(result.sessionIdResumption, true);
    assert.equal(result.ticketResumption, true);
  });

  test('-no_ticket -no_cache: neither kind of resumption, nothing stapled', async () => {
    const result = await checkCertificate(implicit(servers.noResumption!.port), {
      ca: readFileSync(pki.caFile),
    });
    assert.equal(result.trusted, true);
    assert.equal(result.ocspStapled, false);
    assert.equal(result.sessionIdResumption, false);
    assert.equal(result.ticketResumption, false);
  });

  test('self-signed: DEPTH_ZERO_SELF_SIGNED_CERT, flagged on the certificate', async () => {
    const result = await checkCertificate(implicit(servers.selfSigned!.port), {
      ca: readFileSync(pki.caFile),
    });
    assert.equal(result.trusted, false);
    assert.equal(result.verifyError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    const leaf = leafOf(result);
    assert.equal(leaf.selfSigned, true);
    assert.equal(leaf.subject, leaf.issuer);
    assert.equal(leaf.spkiSha256, spkiSha256(selfSignedPem));
    // Trusting the certificate itself makes it verify.
    const pinned = await checkCertificate(implicit(servers.selfSigned!.port), {
      ca: Buffer.from(selfSignedPem),
    });
    assert.equal(pinned.trusted, true);
  });

  test('RSA 1024: the key size is reported (OpenSSL still verifies it at security level 1)', async () => {
    const result = await checkCertificate(implicit(servers.rsa1024!.port), { ca: readFileSync(pki.caFile) });
    const leaf = leafOf(result);
    assert.equal(leaf.keyType, 'rsa');
    assert.equal(leaf.keyBits, 1024);
    assert.equal(result.trusted, true);
  });

  test('a SHA-1 signature: reported, and OpenSSL refuses the chain (CA_MD_TOO_WEAK)', async () => {
    const result = await checkCertificate(implicit(servers.sha1!.port), { ca: readFileSync(pki.caFile) });
    assert.equal(leafOf(result).signatureAlgorithm, 'ecdsa-with-SHA1');
    assert.equal(result.trusted, false);
    assert.equal(result.verifyError, 'CA_MD_TOO_WEAK');
  });

  test('a bad pin is an input error; a port that speaks no TLS is a classified error', async () => {
    await assert.rejects(checkCertificate(implicit(servers.stapled!.port), { pin: 'sha256/short' }), {
      code: 'EINVALID_ARGUMENT',
    });
    const closed = await freePort();
    await assert.rejects(checkCertificate(implicit(closed)), { code: 'ECONNREFUSED' });
  });
});

describe("checkCertificate against Postern's own server", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ endpoints: [{ port: 0, tls: 'starttls' }] });
  });
  after(async () => {
    await server?.close();
  });

  test('trusted with its CA, untrusted without; tickets resume', async () => {
    const target: AuditTarget = { host: '127.0.0.1', port: server.port(), mode: 'starttls', timeout: 5000 };
    const trusted = await checkCertificate(target, { ca: Buffer.from(server.ca) });
    assert.equal(trusted.trusted, true);
    assert.equal(trusted.nameMatches, true);
    assert.equal(trusted.negotiated.version, 'TLSv1.3');
    assert.equal(trusted.ticketResumption, true);
    assert.equal(typeof trusted.sessionIdResumption, 'boolean');
    const untrusted = await checkCertificate(target);
    assert.equal(untrusted.trusted, false);
    assert.ok(untrusted.verifyError, 'an OpenSSL code');
  });
});
