import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { PosternError, TimeoutError, TlsError } from '../../../src/core/errors.js';
import { connectTcp } from '../../../src/net/connect.js';
import { TlsSessionCache } from '../../../src/net/session-cache.js';
import { channelBindings, type StartTlsOptions, startTls, tlsDetails } from '../../../src/net/tls-connect.js';
import { createCa, createCertificate, type GeneratedCertificate } from '../../../src/tls/certificates.js';
import type { ClientTlsOptions } from '../../../src/tls/client-options.js';
import { startPlainServer, startTlsServer, type TlsServer } from './servers.js';

const DAY = 86_400_000;

let ca: GeneratedCertificate;
let leaf: GeneratedCertificate;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  ca = await createCa({ commonName: 'Postern Net Test CA' });
  leaf = await createCertificate({
    commonName: 'localhost',
    altNames: ['localhost', '127.0.0.1'],
    issuer: ca,
  });
});
after(async () => {
  for (const c of cleanup) await c();
});

async function server(options: tls.TlsOptions): Promise<TlsServer> {
  const s = await startTlsServer(options);
  cleanup.push(s.close);
  return s;
}

async function connect(
  port: number,
  tlsOptions: ClientTlsOptions,
  extra: Partial<StartTlsOptions> = {},
): Promise<tls.TLSSocket> {
  const host = extra.host ?? 'localhost';
  const { socket } = await connectTcp({ host: '127.0.0.1', port });
  return startTls(socket, { host, port, tls: tlsOptions, phase: 'tls', ...extra });
}

async function failure(
  port: number,
  tlsOptions: ClientTlsOptions,
  extra: Partial<StartTlsOptions> = {},
): Promise<PosternError> {
  const err = await connect(port, tlsOptions, extra).then(
    (s) => {
      s.destroy();
      return new Error('connected, but a failure was expected');
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof PosternError, String(err));
  return err;
}

describe('startTls: success and details', () => {
  test('verifies against the given CA and reports version, cipher and the peer certificate', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key });
    const secure = await connect(s.port, { ca: ca.cert });
    try {
      const details = tlsDetails(secure);
      assert.equal(details.version, 'TLSv1.3');
      assert.equal(details.authorized, true);
      assert.equal(details.resumed, false);
      assert.match(details.cipher, /^TLS_/);
      assert.equal(details.peerCertificate?.subject, 'CN=localhost');
      assert.equal(details.peerCertificate?.spkiSha256, leaf.spkiSha256);
    } finally {
      secure.destroy();
    }
  });

  test('connecting by IP checks the iPAddress SAN and sends no SNI', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key });
    const secure = await connect(s.port, { ca: ca.cert }, { host: '127.0.0.1' });
    await waitFor(() => s.accepted.length > 0);
    const sni = (s.accepted[0] as tls.TLSSocket & { servername?: string | false }).servername;
    secure.destroy();
    assert.equal(sni, false);
  });
});

describe('startTls: each certificate failure has its own code', () => {
  test('self-signed → ETLS_CERT_SELF_SIGNED', async () => {
    const self = await createCertificate({ commonName: 'localhost' });
    const s = await server({ cert: self.cert, key: self.key });
    const err = await failure(s.port, {});
    assert.ok(err instanceof TlsError);
    assert.equal(err.code, 'ETLS_CERT_SELF_SIGNED');
    assert.equal(err.phase, 'tls');
    assert.equal(err.transient, false);
    assert.match(err.hint ?? '', /tls\.ca/);
    assert.ok(err.cause instanceof Error);
  });

  test('issued by an unknown CA → ETLS_CERT_UNTRUSTED', async () => {
    const other = await createCa({ commonName: 'Someone Else' });
    const s = await server({ cert: leaf.cert, key: leaf.key });
    const err = await failure(s.port, { ca: other.cert });
    assert.equal(err.code, 'ETLS_CERT_UNTRUSTED');
    assert.match(err.hint ?? '', /intermediate/);
  });

  test('a chain ending in a root the client does not trust → ETLS_CERT_UNTRUSTED', async () => {
    const s = await server({ cert: leaf.cert + ca.cert, key: leaf.key });
    const err = await failure(s.port, {});
    assert.equal(err.code, 'ETLS_CERT_UNTRUSTED');
  });

  test('expired → ETLS_CERT_EXPIRED, naming the date', async () => {
    const notAfter = new Date(Date.now() - 10 * DAY);
    const old = await createCertificate({
      commonName: 'localhost',
      issuer: ca,
      notBefore: new Date(Date.now() - 100 * DAY),
      notAfter,
    });
    const s = await server({ cert: old.cert, key: old.key });
    const err = await failure(s.port, { ca: ca.cert });
    assert.equal(err.code, 'ETLS_CERT_EXPIRED');
    assert.ok(
      err.message.includes(new Date(Math.floor(notAfter.getTime() / 1000) * 1000).toISOString()),
      err.message,
    );
  });

  test('not yet valid → ETLS_CERT_NOT_YET_VALID', async () => {
    const future = await createCertificate({
      commonName: 'localhost',
      issuer: ca,
      notBefore: new Date(Date.now() + 10 * DAY),
    });
    const s = await server({ cert: future.cert, key: future.key });
    const err = await failure(s.port, { ca: ca.cert });
    assert.equal(err.code, 'ETLS_CERT_NOT_YET_VALID');
    assert.match(err.hint ?? '', /clock/);
  });

  test('wrong name → ETLS_CERT_NAME_MISMATCH, listing the names and suggesting servername', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key });
    const err = await failure(s.port, { ca: ca.cert }, { host: 'mail.example.test' });
    assert.equal(err.code, 'ETLS_CERT_NAME_MISMATCH');
    assert.match(err.message, /"mail\.example\.test"/);
    assert.match(err.message, /DNS:localhost, IP:127\.0\.0\.1/);
    assert.match(err.hint ?? '', /servername/);
    // …and servername fixes it
    const ok = await connect(s.port, { ca: ca.cert, servername: 'localhost' }, { host: 'mail.example.test' });
    ok.destroy();
  });

  test('insecureSkipVerify accepts a self-signed certificate and reports it as unauthorized', async () => {
    const self = await createCertificate({ commonName: 'whatever.test' });
    const s = await server({ cert: self.cert, key: self.key });
    const secure = await connect(s.port, { insecureSkipVerify: true });
    const details = tlsDetails(secure);
    secure.destroy();
    assert.equal(details.authorized, false);
    assert.equal(details.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(details.peerCertificate?.selfSigned, true);
  });
});

describe('startTls: the wrong kind of server', () => {
  test('a plaintext SMTP server on the port → ETLS_PLAINTEXT_PORT', async () => {
    const plain = await startPlainServer();
    cleanup.push(plain.close);
    const err = await failure(plain.port, { ca: ca.cert });
    assert.equal(err.code, 'ETLS_PLAINTEXT_PORT');
    assert.match(err.message, /speaks plaintext/);
    assert.match(err.hint ?? '', /tls: 'starttls'/);
  });

  test('a server that accepts TCP but never speaks → handshake timeout in the tls phase', async () => {
    const silent = await startPlainServer(() => {});
    cleanup.push(silent.close);
    const started = Date.now();
    const err = await failure(silent.port, { ca: ca.cert }, { handshakeTimeout: 200 });
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.phase, 'tls');
    assert.match(err.hint ?? '', /expect plaintext/);
    assert.ok(Date.now() - started < 2000);
  });

  test('TLS 1.1-only server → ETLS_VERSION', async () => {
    // OpenSSL 3 needs security level 0 for TLS 1.0/1.1 on the server side to even offer them.
    const s = await server({
      cert: leaf.cert,
      key: leaf.key,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const err = await failure(s.port, { ca: ca.cert });
    assert.equal(err.code, 'ETLS_VERSION');
    assert.match(err.message, /TLSv1\.2 or newer/);
  });

  test('minVersion TLSv1.3 against a TLS 1.2-only server → ETLS_VERSION', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key, maxVersion: 'TLSv1.2' });
    const err = await failure(s.port, { ca: ca.cert, minVersion: 'TLSv1.3' });
    assert.equal(err.code, 'ETLS_VERSION');
    assert.match(err.hint ?? '', /minVersion/);
  });

  test('no cipher in common → ETLS_HANDSHAKE', async () => {
    const s = await server({
      cert: leaf.cert,
      key: leaf.key,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    const err = await failure(s.port, { ca: ca.cert, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    assert.equal(err.code, 'ETLS_HANDSHAKE');
    assert.match(err.message, /in common/);
  });

  test('an aborted signal ends the handshake with EABORTED', async () => {
    const silent = await startPlainServer(() => {});
    cleanup.push(silent.close);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await failure(silent.port, {}, { signal: controller.signal });
    assert.equal(err.code, 'EABORTED');
  });
});

describe('startTls: pins', () => {
  test('a matching pin passes; a wrong one fails with ETLS_PIN_MISMATCH and the socket destroyed', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key });
    const ok = await connect(s.port, {
      ca: ca.cert,
      pin: [`sha256/${ca.spkiSha256}`, `sha256/${leaf.spkiSha256}`],
    });
    ok.destroy();
    const { socket } = await connectTcp({ host: '127.0.0.1', port: s.port });
    const err = await startTls(socket, {
      host: 'localhost',
      port: s.port,
      tls: { ca: ca.cert, pin: `sha256/${ca.spkiSha256}` },
      phase: 'tls',
    }).catch((e: unknown) => e);
    assert.ok(err instanceof TlsError);
    assert.equal(err.code, 'ETLS_PIN_MISMATCH');
    assert.ok(err.message.includes(leaf.spkiSha256));
    assert.equal(socket.destroyed, true);
  });

  test('a pin alone (insecureSkipVerify) trusts a self-signed server', async () => {
    const self = await createCertificate({ commonName: 'pinned.test' });
    const s = await server({ cert: self.cert, key: self.key });
    const ok = await connect(s.port, { insecureSkipVerify: true, pin: self.spkiSha256 });
    ok.destroy();
    const other = await createCertificate({ commonName: 'other.test' });
    const err = await failure(s.port, { insecureSkipVerify: true, pin: other.spkiSha256 });
    assert.equal(err.code, 'ETLS_PIN_MISMATCH');
  });
});

describe('startTls: STARTTLS over an existing plaintext connection', () => {
  test('upgrades after a plaintext exchange; failures carry phase starttls', async () => {
    const self = await createCertificate({ commonName: 'localhost' });
    for (const [cert, expectOk] of [
      [leaf, true],
      [self, false],
    ] as const) {
      const plain = await startPlainServer((s) => {
        s.write('220 ready\r\n');
        s.once('data', () => {
          s.write('220 go ahead\r\n');
          const secure = new tls.TLSSocket(s, { isServer: true, cert: cert.cert, key: cert.key });
          secure.on('error', () => {});
        });
      });
      cleanup.push(plain.close);
      const { socket } = await connectTcp({ host: '127.0.0.1', port: plain.port });
      await once(socket, 'data');
      socket.write('STARTTLS\r\n');
      await once(socket, 'data');
      const result = await startTls(socket, {
        host: 'localhost',
        port: plain.port,
        tls: { ca: ca.cert },
        phase: 'starttls',
      }).catch((e: unknown) => e);
      if (expectOk) {
        assert.ok(result instanceof tls.TLSSocket, String(result));
        result.destroy();
      } else {
        assert.ok(result instanceof TlsError);
        assert.equal(result.code, 'ETLS_CERT_SELF_SIGNED');
        assert.equal(result.phase, 'starttls');
      }
    }
  });
});

describe('startTls: session resumption', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    test(`${version}: the second connection resumes from the cache`, async () => {
      const s = await server({ cert: leaf.cert, key: leaf.key, minVersion: version, maxVersion: version });
      const cache = new TlsSessionCache();
      const first = await connect(s.port, { ca: ca.cert }, { sessionCache: cache });
      assert.equal(tlsDetails(first).resumed, false);
      // TLS 1.3 tickets arrive after the handshake; a round trip makes sure they have been read.
      await waitFor(() => cache.size > 0);
      first.destroy();
      // A resumed handshake carries no certificate; the pin and the bindings use the one cached with the session.
      const second = await connect(s.port, { ca: ca.cert, pin: leaf.spkiSha256 }, { sessionCache: cache });
      const details = tlsDetails(second);
      const bindings = channelBindings(second);
      second.destroy();
      assert.equal(details.version, version);
      assert.equal(details.resumed, true);
      assert.equal(details.authorized, true);
      assert.equal(details.peerCertificate?.spkiSha256, leaf.spkiSha256);
      const der = new X509Certificate(leaf.cert).raw;
      assert.deepEqual(bindings['tls-server-end-point'], createHash('sha256').update(der).digest());
    });
  }

  test('a session is only offered to the name it was made for', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key });
    const cache = new TlsSessionCache();
    const first = await connect(s.port, { ca: ca.cert }, { sessionCache: cache });
    await waitFor(() => cache.size > 0);
    first.destroy();
    const other = await connect(s.port, { ca: ca.cert }, { host: '127.0.0.1', sessionCache: cache });
    assert.equal(tlsDetails(other).resumed, false);
    other.destroy();
  });

  test('sessions from failed verifications are not cached', async () => {
    const self = await createCertificate({ commonName: 'localhost' });
    const s = await server({ cert: self.cert, key: self.key, maxVersion: 'TLSv1.2' });
    const cache = new TlsSessionCache();
    await failure(s.port, {}, { sessionCache: cache });
    assert.equal(cache.size, 0);
  });
});

describe('channel bindings', () => {
  test('TLS 1.3: tls-exporter equals the server side; tls-server-end-point = SHA-256 of the leaf DER', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key });
    const secure = await connect(s.port, { ca: ca.cert });
    await waitFor(() => s.accepted.length > 0);
    const serverSide = s.accepted[0]!;
    const bindings = channelBindings(secure);
    secure.destroy();
    const expected = serverSide.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
    assert.deepEqual(bindings['tls-exporter'], expected);
    const der = new X509Certificate(leaf.cert).raw;
    assert.deepEqual(bindings['tls-server-end-point'], createHash('sha256').update(der).digest());
  });

  test('TLS 1.2: only tls-server-end-point', async () => {
    const s = await server({ cert: leaf.cert, key: leaf.key, maxVersion: 'TLSv1.2' });
    const secure = await connect(s.port, { ca: ca.cert });
    const bindings = channelBindings(secure);
    secure.destroy();
    assert.equal(bindings['tls-exporter'], undefined);
    assert.ok(bindings['tls-server-end-point']);
  });
});

async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
