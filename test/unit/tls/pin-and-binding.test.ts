import assert from 'node:assert/strict';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  X509Certificate,
} from 'node:crypto';
import { describe, test } from 'node:test';
import { createCa, createCertificate } from '../../../src/tls/certificates.js';
import {
  TLS_EXPORTER_LABEL,
  TLS_EXPORTER_LENGTH,
  tlsServerEndPoint,
} from '../../../src/tls/channel-binding.js';
import * as der from '../../../src/tls/der.js';
import { checkPins, parsePin, spkiSha256 } from '../../../src/tls/pin.js';

describe('spkiSha256 and pins', () => {
  test('spkiSha256 equals the hash of the public key re-derived from the private key, for PEM and DER', async () => {
    const c = await createCertificate({ commonName: 'pin.test', keyType: 'rsa2048' });
    const spki = createPublicKey(c.key).export({ type: 'spki', format: 'der' });
    const expected = createHash('sha256').update(spki).digest('base64');
    assert.equal(spkiSha256(c.cert), expected);
    assert.equal(spkiSha256(new X509Certificate(c.cert).raw), expected);
  });

  test('checkPins accepts "sha256/…" and bare base64, one or many, and rejects others', async () => {
    const a = await createCertificate({ commonName: 'a.test' });
    const b = await createCertificate({ commonName: 'b.test' });
    const der = new X509Certificate(a.cert).raw;
    assert.equal(checkPins(der, `sha256/${a.spkiSha256}`), true);
    assert.equal(checkPins(der, a.spkiSha256), true);
    assert.equal(checkPins(der, [`sha256/${b.spkiSha256}`, `SHA256/${a.spkiSha256}`]), true);
    assert.equal(checkPins(der, [`sha256/${b.spkiSha256}`]), false);
    assert.equal(checkPins(der, []), false);
  });

  test('parsePin rejects text that is not a SHA-256 digest', () => {
    assert.throws(() => parsePin('sha256/abc'), TypeError);
    assert.throws(() => parsePin('sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAA='), TypeError);
    assert.throws(() => parsePin(`sha256/${'!'.repeat(44)}`), TypeError);
    const digest = createHash('sha256').update('x').digest('base64');
    assert.equal(parsePin(` sha256/${digest.replace(/=+$/, '')} `), digest);
  });
});

describe('tls-server-end-point (RFC 5929 §4.1)', () => {
  test('an ECDSA-SHA256 certificate hashes with SHA-256', async () => {
    const c = await createCertificate({ commonName: 'ec.test' });
    const der = new X509Certificate(c.cert).raw;
    assert.deepEqual(tlsServerEndPoint(der), createHash('sha256').update(der).digest());
  });

  test('a certificate signed by a P-384 CA hashes with SHA-384 (the signature hash, not its own key)', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const issuer = { cert: p384Ca(key.toString()), key: key.toString() };
    const leaf = await createCertificate({ commonName: 'leaf.test', issuer }); // a P-256 key, signed with SHA-384
    const der = new X509Certificate(leaf.cert).raw;
    assert.ok(new X509Certificate(leaf.cert).verify(new X509Certificate(issuer.cert).publicKey));
    assert.deepEqual(tlsServerEndPoint(der), createHash('sha384').update(der).digest());
  });

  test('an RSA (sha256WithRSAEncryption) certificate hashes with SHA-256', async () => {
    const ca = await createCa({ commonName: 'RSA CA', keyType: 'rsa2048' });
    const der = new X509Certificate((await createCertificate({ commonName: 'x', issuer: ca })).cert).raw;
    assert.deepEqual(tlsServerEndPoint(der), createHash('sha256').update(der).digest());
  });

  test('Ed25519-signed certificates have no defined hash, so no binding', async () => {
    const ca = await createCa({ commonName: 'Ed CA', keyType: 'ed25519' });
    const der = new X509Certificate((await createCertificate({ commonName: 'x', issuer: ca })).cert).raw;
    assert.equal(tlsServerEndPoint(der), undefined);
  });

  test('the RFC 9266 exporter parameters', () => {
    assert.equal(TLS_EXPORTER_LABEL, 'EXPORTER-Channel-Binding');
    assert.equal(TLS_EXPORTER_LENGTH, 32);
  });
});

/** A self-signed ecdsa-with-SHA384 CA certificate for a P-384 key (createCa only makes P-256, RSA and Ed25519). */
function p384Ca(keyPem: string): string {
  const key = createPrivateKey(keyPem);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const name = der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.utf8String('P-384 CA'))));
  const alg = der.sequence(der.oid('1.2.840.10045.4.3.3'));
  const now = Date.now();
  const basicConstraints = der.sequence(
    der.oid('2.5.29.19'),
    der.boolean(true),
    der.octetString(der.sequence(der.boolean(true))),
  );
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.smallInteger(7),
    alg,
    name,
    der.sequence(der.time(new Date(now - 60_000)), der.time(new Date(now + 86_400_000))),
    name,
    spki,
    der.explicit(3, der.sequence(basicConstraints)),
  );
  return new X509Certificate(der.sequence(tbs, alg, der.bitString(sign('sha384', tbs, key)))).toString();
}
