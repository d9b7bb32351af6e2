import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { createCa, createCertificate, type KeyType } from '../../../src/tls/certificates.js';

/** Serves `cert`/`key` on 127.0.0.1 and connects a verifying client with `ca`; resolves to the client's verdict. */
async function handshake(
  server: { cert: string; key: string },
  ca: string | string[],
  servername = 'localhost',
): Promise<{ authorized: boolean; error: string | undefined }> {
  const srv = tls.createServer({ cert: server.cert, key: server.key }, (s) => s.end());
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  try {
    const { port } = srv.address() as AddressInfo;
    const client = tls.connect({ host: '127.0.0.1', port, ca, servername });
    try {
      await once(client, 'secureConnect');
      return { authorized: client.authorized, error: undefined };
    } catch (err) {
      return { authorized: false, error: (err as NodeJS.ErrnoException).code };
    } finally {
      client.destroy();
    }
  } finally {
    srv.close();
  }
}

describe('createCertificate', () => {
  test('a leaf signed by a CA has the SANs, validity, EKU and a positive 16-byte serial', async () => {
    const ca = await createCa({ commonName: 'Postern Test CA' });
    const leaf = await createCertificate({
      commonName: 'mail.example.test',
      altNames: ['DNS:mail.example.test', 'localhost', '127.0.0.1', 'IP:::1'],
      days: 30,
      issuer: ca,
      organization: 'Postern, Inc.',
    });
    const x = new X509Certificate(leaf.cert);
    assert.equal(
      x.subjectAltName,
      'DNS:mail.example.test, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.match(x.subject, /CN=mail\.example\.test/);
    assert.match(x.subject, /O=Postern\\, Inc\./);
    assert.equal(x.issuer, 'CN=Postern Test CA');
    assert.equal(x.ca, false);
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    assert.ok(Math.abs(days - 30) < 0.01, `validity ${days} days`);
    assert.ok(Date.parse(x.validFrom) <= Date.now());
    assert.equal(x.serialNumber.length, 32);
    assert.ok(Number.parseInt(x.serialNumber.slice(0, 2), 16) < 0x80);
    assert.ok(x.checkIssued(new X509Certificate(ca.cert)));
    assert.ok(x.verify(new X509Certificate(ca.cert).publicKey));
    assert.match(leaf.key, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(x.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(leaf.key))));
  });

  test('a CA certificate is CA:true and has no SAN; a leaf without altNames gets its CN as SAN', async () => {
    const ca = await createCa({ commonName: 'Root' });
    const x = new X509Certificate(ca.cert);
    assert.equal(x.ca, true);
    assert.equal(x.subjectAltName, undefined);
    const leaf = new X509Certificate((await createCertificate({ commonName: 'only.test' })).cert);
    assert.equal(leaf.subjectAltName, 'DNS:only.test');
    const ipLeaf = new X509Certificate((await createCertificate({ commonName: '127.0.0.1' })).cert);
    assert.equal(ipLeaf.subjectAltName, 'IP Address:127.0.0.1');
  });

  test('notBefore/notAfter are honoured for expired and not-yet-valid certificates', async () => {
    const expired = new X509Certificate(
      (
        await createCertificate({
          commonName: 'old.test',
          notBefore: new Date('2020-01-01T00:00:00Z'),
          notAfter: new Date('2021-01-01T00:00:00Z'),
        })
      ).cert,
    );
    assert.equal(new Date(expired.validTo).toISOString(), '2021-01-01T00:00:00.000Z');
    const future = new X509Certificate(
      (
        await createCertificate({
          commonName: 'future.test',
          notBefore: new Date('2060-01-01T00:00:00Z'),
          days: 2,
        })
      ).cert,
    );
    // 2060 needs GeneralizedTime (RFC 5280 §4.1.2.5)
    assert.equal(new Date(future.validFrom).toISOString(), '2060-01-01T00:00:00.000Z');
    assert.equal(new Date(future.validTo).toISOString(), '2060-01-03T00:00:00.000Z');
  });

  test('spkiSha256 is the SHA-256 of the SubjectPublicKeyInfo', async () => {
    const c = await createCertificate({ commonName: 'pin.test' });
    const spki = new X509Certificate(c.cert).publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(c.spkiSha256, createHash('sha256').update(spki).digest('base64'));
  });

  test('rejects bad input with InputError', async () => {
    await assert.rejects(createCertificate({ commonName: 'x', altNames: ['IP:not-an-ip'] }), {
      code: 'EINVALID_ARGUMENT',
    });
    await assert.rejects(createCertificate({ commonName: 'x', altNames: ['bad name'] }), {
      code: 'EINVALID_ARGUMENT',
    });
    await assert.rejects(createCertificate({ commonName: 'x', days: 0 }), { code: 'EINVALID_ARGUMENT' });
    const a = await createCa({ commonName: 'A' });
    const b = await createCa({ commonName: 'B' });
    await assert.rejects(createCertificate({ commonName: 'x', issuer: { cert: a.cert, key: b.key } }), {
      code: 'EINVALID_ARGUMENT',
    });
  });

  for (const keyType of ['ec', 'rsa2048', 'ed25519'] as KeyType[]) {
    test(`node:tls verifies a ${keyType} leaf issued by a ${keyType} CA`, async () => {
      const ca = await createCa({ commonName: `${keyType} CA`, keyType });
      const leaf = await createCertificate({ commonName: 'localhost', keyType, issuer: ca });
      assert.deepEqual(await handshake(leaf, ca.cert), { authorized: true, error: undefined });
    });
  }

  test('node:tls verifies a chain through an intermediate, and a self-signed leaf given as its own ca', async () => {
    const root = await createCa({ commonName: 'Root', keyType: 'rsa2048' });
    const inter = await createCertificate({ commonName: 'Intermediate', isCa: true, issuer: root });
    const leaf = await createCertificate({ commonName: 'localhost', issuer: inter });
    assert.deepEqual(await handshake({ cert: leaf.cert + inter.cert, key: leaf.key }, root.cert), {
      authorized: true,
      error: undefined,
    });
    const self = await createCertificate({ commonName: 'localhost' });
    assert.deepEqual(await handshake(self, self.cert), { authorized: true, error: undefined });
  });

  test('a client trusting another CA refuses the certificate', async () => {
    const ca = await createCa({ commonName: 'Right CA' });
    const other = await createCa({ commonName: 'Other CA' });
    const leaf = await createCertificate({ commonName: 'localhost', issuer: ca });
    const result = await handshake(leaf, other.cert);
    assert.equal(result.error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});
