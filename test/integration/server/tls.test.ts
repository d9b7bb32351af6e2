// Server TLS: profiles, the SNI map, reloading certificate files, the automatic certificate in the data
// folder, session resumption, TLS in the Received header, and the PROXY protocol (plain and implicit TLS).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { createCa, createCertificate, type GeneratedCertificate } from '../../../src/tls/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { RawClient, startServer } from './harness.js';

async function handshake(
  port: number,
  o: tls.ConnectionOptions,
): Promise<{ socket: tls.TLSSocket; cn: string | undefined; greeting: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ...o });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  const [greeting] = (await once(socket, 'data')) as [Buffer];
  const cn = socket.getPeerCertificate().subject?.CN;
  return { socket, cn: Array.isArray(cn) ? cn[0] : cn, greeting: greeting.toString() };
}

function handshakeFails(port: number, o: tls.ConnectionOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...o });
    socket.on('secureConnect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('server TLS', () => {
  let ca: GeneratedCertificate;
  const leaf = (name: string) => createCertificate({ commonName: name, altNames: [name], issuer: ca });

  test('profiles: modern is TLS 1.3 only, intermediate takes TLS 1.2 and 1.3, old also TLS 1.0', async () => {
    const modern = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }], profile: 'modern' });
    const intermediate = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }] });
    const old = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }], profile: 'old' });
    try {
      const base = { servername: 'localhost' };
      assert.equal(
        await handshakeFails(modern.port(), { ...base, ca: modern.ca, maxVersion: 'TLSv1.2' }),
        true,
      );
      const m = await handshake(modern.port(), { ...base, ca: modern.ca });
      assert.equal(m.socket.getProtocol(), 'TLSv1.3');
      m.socket.destroy();
      const i12 = await handshake(intermediate.port(), {
        ...base,
        ca: intermediate.ca,
        maxVersion: 'TLSv1.2',
      });
      assert.equal(i12.socket.getProtocol(), 'TLSv1.2');
      assert.match(i12.socket.getCipher().name, /^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20)/);
      i12.socket.destroy();
      assert.equal(
        await handshakeFails(intermediate.port(), {
          ...base,
          ca: intermediate.ca,
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-ECDSA-AES128-SHA',
        }),
        true,
        'CBC suites are not in the intermediate profile',
      );
      // 'old' is an explicit opt-in that still speaks TLS 1.0 with CBC suites to ancient clients.
      const legacy = {
        ...base,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1',
        ciphers: 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0',
      } as const;
      assert.equal(await handshakeFails(intermediate.port(), { ...legacy, ca: intermediate.ca }), true);
      const o = await handshake(old.port(), { ...legacy, ca: old.ca });
      assert.equal(o.socket.getProtocol(), 'TLSv1');
      o.socket.destroy();
    } finally {
      await modern.close();
      await intermediate.close();
      await old.close();
    }
  });

  test('SNI: each name gets its certificate, others the default', async () => {
    ca = await createCa({ commonName: 'SNI test CA' });
    const [a, b, fallback] = await Promise.all([leaf('a.test'), leaf('b.test'), leaf('localhost')]);
    const s = await startServer({
      endpoints: [{ port: 0, tls: 'implicit' }],
      tls: { sni: { 'a.test': a, '*.b.test': b }, default: fallback },
    });
    try {
      for (const [name, expected] of [
        ['a.test', 'a.test'],
        ['mx.b.test', 'b.test'],
        ['other.test', 'localhost'],
      ] as const) {
        const { socket, cn, greeting } = await handshake(s.port(), {
          servername: name,
          ca: ca.cert,
          checkServerIdentity: () => undefined,
        });
        assert.equal(cn, expected, name);
        assert.match(greeting, /^220 /);
        socket.destroy();
      }
    } finally {
      await s.close();
    }
  });

  test('certificate files are reloaded without a restart; a broken reload keeps the old ones', async () => {
    ca = await createCa({ commonName: 'Reload test CA' });
    const dir = await tempDir('reload');
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    const first = await leaf('localhost');
    await writeFile(certFile, first.cert);
    await writeFile(keyFile, first.key);
    const s = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }], tls: { certFile, keyFile } });
    try {
      const fingerprint = async () => {
        const { socket } = await handshake(s.port(), { servername: 'localhost', ca: ca.cert });
        const raw = socket.getPeerCertificate().raw;
        socket.destroy();
        return new X509Certificate(raw).fingerprint256;
      };
      const before = await fingerprint();
      assert.equal(before, new X509Certificate(first.cert).fingerprint256);
      const second = await leaf('localhost');
      await writeFile(certFile, second.cert);
      await writeFile(keyFile, second.key);
      await s.server.reloadCertificates();
      assert.equal(await fingerprint(), new X509Certificate(second.cert).fingerprint256);
      await writeFile(keyFile, first.key); // no longer matches the certificate
      await assert.rejects(s.server.reloadCertificates(), { code: 'ECONFIG' });
      assert.equal(await fingerprint(), new X509Certificate(second.cert).fingerprint256);
    } finally {
      await s.close();
    }
  });

  test("tls: 'auto' creates a CA and certificate in dataDir (keys 0600) and reuses them", async () => {
    const dataDir = await tempDir('auto');
    const first = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }], tls: 'auto', dataDir });
    const caFile = first.server.caFile;
    const caPem = first.server.caCertificate;
    await first.close();
    assert.equal(caFile, join(dataDir, 'tls', 'ca.pem'));
    for (const key of ['key.pem', 'ca.key']) {
      assert.equal((await stat(join(dataDir, 'tls', key))).mode & 0o777, 0o600, key);
    }
    assert.equal((await stat(join(dataDir, 'tls'))).mode & 0o777, 0o700);
    const second = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }], tls: 'auto', dataDir });
    try {
      assert.equal(second.server.caCertificate, caPem, 'the same CA on the next start');
      const { socket } = await handshake(second.port(), { servername: 'localhost', ca: caPem });
      assert.ok(socket.authorized);
      socket.destroy();
    } finally {
      await second.close();
    }
  });

  test('TLS sessions resume on a later connection', async () => {
    const s = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }] });
    try {
      const first = tls.connect({ host: '127.0.0.1', port: s.port(), ca: s.ca, servername: 'localhost' });
      const [session] = (await once(first, 'session')) as [Buffer];
      first.destroy();
      const { socket } = await handshake(s.port(), { ca: s.ca, servername: 'localhost', session });
      assert.equal(socket.isSessionReused(), true);
      socket.destroy();
    } finally {
      await s.close();
    }
  });

  test('PROXY protocol: v1 on a plain endpoint, v2 before implicit TLS, untrusted upstreams dropped', async () => {
    const s = await startServer({
      endpoints: [
        { port: 0, tls: 'starttls', proxyProtocol: { trusted: ['127.0.0.1'] } },
        { port: 0, tls: 'implicit', proxyProtocol: { trusted: ['127.0.0.0/8'] } },
        { port: 0, tls: 'starttls', proxyProtocol: { trusted: ['192.0.2.1'] } },
      ],
    });
    try {
      // v1, then an ordinary session in the same first packet after the header.
      const c = await RawClient.connect(s.port(0));
      c.write('PROXY TCP4 203.0.113.7 198.51.100.1 40000 25\r\n');
      assert.equal((await c.reply()).code, 220);
      await c.command('EHLO proxied.test');
      await c.command('MAIL FROM:<a@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      assert.equal((await c.command('Subject: via proxy\r\n\r\nhi\r\n.')).code, 250);
      assert.match(
        s.store.messages.at(-1)!.data.toString(),
        /^Received: from proxied\.test \(\[203\.0\.113\.7\]\)/,
      );
      c.close();

      // v2 header and the TLS ClientHello right behind it.
      const raw = net.connect({ host: '127.0.0.1', port: s.port(1) });
      await once(raw, 'connect');
      const header = Buffer.from([
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0, 12,
      ]);
      raw.write(Buffer.concat([header, Buffer.from([198, 51, 100, 9, 127, 0, 0, 1, 0x9c, 0x40, 1, 0xd1])]));
      const secure = tls.connect({ socket: raw, ca: s.ca, servername: 'localhost' });
      await once(secure, 'secureConnect');
      const [greeting] = (await once(secure, 'data')) as [Buffer];
      assert.match(greeting.toString(), /^220 /);
      secure.destroy();

      // From an address not on the trusted list: dropped without a word.
      const untrusted = await RawClient.connect(s.port(2));
      untrusted.write('PROXY TCP4 203.0.113.7 198.51.100.1 40000 25\r\n');
      await untrusted.waitClosed();
      assert.equal(untrusted.received, '');
    } finally {
      await s.close();
    }
  });

  test('the Received header names the TLS version and cipher', async () => {
    const s = await startServer({ endpoints: [{ port: 0, tls: 'implicit' }] });
    try {
      const c = await RawClient.connect(s.port(), { tls: true, ca: s.ca });
      await c.reply();
      await c.command('EHLO tls.test');
      await c.command('MAIL FROM:<a@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      assert.equal((await c.command('Subject: x\r\n\r\nhi\r\n.')).code, 250);
      const text = s.store.messages[0]!.data.toString();
      assert.match(
        text,
        /with ESMTPS id \w+\r\n\t\(version=TLSv1\.3 cipher=TLS_\w+ bits=(128|256)\)\r\n\tfor <b@example\.org>; /,
      );
      c.close();
    } finally {
      await s.close();
    }
  });
});
