import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { describeCertificate } from '../../../src/tls/certificate-info.js';
import { createCa, createCertificate } from '../../../src/tls/certificates.js';

test('describeCertificate reports names, dates, key, signature and hashes of a CA-issued leaf', async () => {
  const ca = await createCa({ commonName: 'Info CA', organization: 'Postern Tests' });
  const notBefore = new Date('2030-01-01T00:00:00Z');
  const leaf = await createCertificate({
    commonName: 'mail.example.test',
    altNames: ['mail.example.test', 'IP:192.0.2.7', '2001:db8::1'],
    notBefore,
    days: 90,
    issuer: ca,
  });
  const der = new X509Certificate(leaf.cert).raw;
  const info = describeCertificate(der, new Date('2030-01-31T00:00:00Z'));
  assert.equal(info.subject, 'CN=mail.example.test');
  assert.equal(info.issuer, 'O=Postern Tests, CN=Info CA');
  assert.deepEqual(info.altNames, ['DNS:mail.example.test', 'IP:192.0.2.7', 'IP:2001:db8::1']);
  assert.equal(info.validFrom.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.equal(info.validTo.toISOString(), '2030-04-01T00:00:00.000Z');
  assert.equal(info.daysLeft, 60);
  assert.equal(info.selfSigned, false);
  assert.equal(info.isCa, false);
  assert.equal(info.keyType, 'ec');
  assert.equal(info.curve, 'prime256v1');
  assert.equal(info.keyBits, 256);
  assert.equal(info.signatureAlgorithm, 'ecdsa-with-SHA256');
  assert.equal(
    info.fingerprintSha256,
    createHash('sha256')
      .update(der)
      .digest('hex')
      .toUpperCase()
      .replace(/(..)(?!$)/g, '$1:'),
  );
  assert.equal(info.spkiSha256, leaf.spkiSha256);
  assert.equal(info.serialNumber, new X509Certificate(der).serialNumber.toUpperCase());
});

test('describeCertificate: self-signed RSA and Ed25519, expired → negative daysLeft', async () => {
  const rsa = describeCertificate(
    new X509Certificate((await createCertificate({ commonName: 'rsa.test', keyType: 'rsa2048' })).cert).raw,
  );
  assert.equal(rsa.selfSigned, true);
  assert.equal(rsa.keyType, 'rsa');
  assert.equal(rsa.keyBits, 2048);
  assert.equal(rsa.signatureAlgorithm, 'sha256WithRSAEncryption');

  const ca = describeCertificate(
    new X509Certificate((await createCa({ commonName: 'Ed', keyType: 'ed25519' })).cert).raw,
  );
  assert.equal(ca.selfSigned, true);
  assert.equal(ca.isCa, true);
  assert.equal(ca.keyType, 'ed25519');
  assert.equal(ca.signatureAlgorithm, 'Ed25519');
  assert.deepEqual(ca.altNames, []);

  const old = await createCertificate({
    commonName: 'old.test',
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2020-02-01T00:00:00Z'),
  });
  const info = describeCertificate(new X509Certificate(old.cert).raw, new Date('2020-02-11T00:00:00Z'));
  assert.equal(info.daysLeft, -10);
});
