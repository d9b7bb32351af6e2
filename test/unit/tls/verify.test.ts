import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { ConnectionError, PosternError, TimeoutError, TlsError } from '../../../src/core/errors.js';
import { createCertificate } from '../../../src/tls/certificates.js';
import { classifyTlsError } from '../../../src/tls/verify.js';

const ctx = { host: 'mail.example.test', port: 465, phase: 'tls' } as const;

function nodeError(code: string, message = code.toLowerCase()): Error {
  return Object.assign(new Error(message), { code });
}

test('each Node/OpenSSL failure maps to its own code, keeps the cause and is permanent', () => {
  const cases: [Error, string][] = [
    [nodeError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'ETLS_CERT_SELF_SIGNED'],
    [nodeError('SELF_SIGNED_CERT_IN_CHAIN'), 'ETLS_CERT_UNTRUSTED'],
    [nodeError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), 'ETLS_CERT_UNTRUSTED'],
    [nodeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'ETLS_CERT_UNTRUSTED'],
    [nodeError('CERT_UNTRUSTED'), 'ETLS_CERT_UNTRUSTED'],
    [nodeError('CERT_HAS_EXPIRED', 'certificate has expired'), 'ETLS_CERT_EXPIRED'],
    [nodeError('CERT_NOT_YET_VALID'), 'ETLS_CERT_NOT_YET_VALID'],
    [
      nodeError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      'ETLS_CERT_NAME_MISMATCH',
    ],
    [
      nodeError('ERR_SSL_WRONG_VERSION_NUMBER', 'error:0A00010B:SSL routines::wrong version number'),
      'ETLS_PLAINTEXT_PORT',
    ],
    [nodeError('ERR_SSL_PACKET_LENGTH_TOO_LONG', 'packet length too long'), 'ETLS_PLAINTEXT_PORT'],
    [nodeError('ERR_SSL_HTTP_REQUEST', 'http request'), 'ETLS_PLAINTEXT_PORT'],
    [nodeError('ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol'), 'ETLS_VERSION'],
    [nodeError('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version'), 'ETLS_VERSION'],
    [nodeError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure'), 'ETLS_HANDSHAKE'],
    [
      nodeError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'),
      'ETLS_HANDSHAKE',
    ],
    [nodeError('ERR_SSL_SOMETHING_NEW', 'something new'), 'ETLS_HANDSHAKE'],
  ];
  for (const [err, code] of cases) {
    const out = classifyTlsError(err, ctx);
    assert.ok(out instanceof TlsError, code);
    assert.equal(out.code, code, String(err.message));
    assert.equal(out.cause, err);
    assert.equal(out.phase, 'tls');
    assert.equal(out.transient, false);
    assert.ok(out.hint, `${code} has a hint`);
  }
});

test('messages name the port, the certificate dates and names, and the minimum version', async () => {
  const plain = classifyTlsError(nodeError('ERR_SSL_WRONG_VERSION_NUMBER'), { ...ctx, port: 587 });
  assert.match(plain.message, /port 587 of mail\.example\.test speaks plaintext/);
  assert.match(plain.hint ?? '', /tls: 'starttls'/);

  const cert = await createCertificate({
    commonName: 'other.test',
    altNames: ['other.test', '192.0.2.1'],
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2021-06-01T00:00:00Z'),
  });
  const der = new X509Certificate(cert.cert).raw;
  const expired = classifyTlsError(nodeError('CERT_HAS_EXPIRED'), { ...ctx, peerCertificate: der });
  assert.match(expired.message, /expired on 2021-06-01T00:00:00\.000Z/);
  const mismatch = classifyTlsError(nodeError('ERR_TLS_CERT_ALTNAME_INVALID'), {
    ...ctx,
    peerCertificate: der,
  });
  assert.match(
    mismatch.message,
    /not valid for "mail\.example\.test": it is for DNS:other\.test, IP:192\.0\.2\.1/,
  );
  assert.match(mismatch.hint ?? '', /servername/);

  const version = classifyTlsError(nodeError('ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol'), {
    ...ctx,
    minVersion: 'TLSv1.3',
  });
  assert.match(version.message, /we require TLSv1\.3 or newer/);
});

test('a connection reset is a transient ConnectionError; PosternErrors pass through unchanged', () => {
  const reset = classifyTlsError(nodeError('ECONNRESET', 'read ECONNRESET'), { ...ctx, phase: 'starttls' });
  assert.ok(reset instanceof ConnectionError);
  assert.equal(reset.code, 'ECONNECTION');
  assert.equal(reset.transient, true);
  assert.equal(reset.phase, 'starttls');
  const timeout = new TimeoutError('ETIMEOUT', 'timed out', { phase: 'tls' });
  assert.equal(classifyTlsError(timeout, ctx), timeout);
  assert.ok(classifyTlsError('weird', ctx) instanceof PosternError);
});
