// scanTls against small raw servers: a scripted legacy TLS server (SSLv2, SSLv3, TLS 1.0, DEFLATE, no
// renegotiation_info, no fallback SCSV — what OpenSSL 3 can no longer be made to do), and hostile ones that
// hang, close, talk plaintext or send half a ServerHello. Every scan must end, with typed notes, no hang.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { scanTls } from '../../../src/audit/tls/index.js';
import type { AuditTarget, ProtocolName, TlsScanResult } from '../../../src/audit/types.js';
import { freePort } from '../../helpers/ports.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

/** A raw server: `onData` gets everything the client sent so far and may answer. */
async function rawServer(
  onData: (socket: net.Socket, received: Buffer) => void,
  onConnection?: (socket: net.Socket) => void,
): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    onConnection?.(socket);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let received = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      onData(socket, received);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

const target = (port: number, timeout = 400): AuditTarget => ({
  host: '127.0.0.1',
  port,
  mode: 'implicit',
  timeout,
});
const offered = (r: TlsScanResult) =>
  (Object.keys(r.protocols) as ProtocolName[]).filter((p) => r.protocols[p] === true);

const u16 = (v: number) => Buffer.of(v >> 8, v & 0xff);
const u24 = (v: number) => Buffer.of(v >> 16, (v >> 8) & 0xff, v & 0xff);
const record = (type: number, version: number, body: Buffer) =>
  Buffer.concat([Buffer.of(type), u16(version), u16(body.length), body]);
const handshake = (type: number, body: Buffer) => Buffer.concat([Buffer.of(type), u24(body.length), body]);

interface Hello {
  version: number;
  suites: number[];
  compression: number[];
}

/** Reads a complete ClientHello (one record), or undefined while incomplete or for an SSLv2 hello. */
function clientHello(b: Buffer): Hello | undefined {
  if (b[0] !== 22 || b.length < 5 || b.length < 5 + b.readUInt16BE(3)) return undefined;
  let p = 9;
  const version = b.readUInt16BE(p);
  p += 34;
  p += 1 + (b[p] as number);
  const suites: number[] = [];
  const suitesLen = b.readUInt16BE(p);
  for (let i = 0; i < suitesLen; i += 2) suites.push(b.readUInt16BE(p + 2 + i));
  p += 2 + suitesLen;
  const compression = [...b.subarray(p + 1, p + 1 + (b[p] as number))];
  return { version, suites, compression };
}

// The scripted legacy server: SSLv2 (two kinds), SSLv3 and TLS 1.0 with its own preference among three suites,
// DEFLATE when offered, no renegotiation_info, TLS_FALLBACK_SCSV ignored.
const LEGACY_ORDER = [0x0005, 0x000a, 0x002f]; // RC4-SHA, DES-CBC3-SHA, AES128-SHA
const SSL2_KINDS = [0x010080, 0x0700c0];

function legacyServer(socket: net.Socket, received: Buffer): void {
  if (received.length >= 3 && (received[0] as number) & 0x80 && received[2] === 1) {
    const specs = Buffer.concat(SSL2_KINDS.map(u24));
    const cert = Buffer.alloc(10, 0x30);
    const msg = Buffer.concat([
      Buffer.of(4, 0, 1),
      u16(2),
      u16(cert.length),
      u16(specs.length),
      u16(16),
      cert,
      specs,
      Buffer.alloc(16, 7),
    ]);
    socket.end(Buffer.concat([Buffer.of(0x80 | (msg.length >> 8), msg.length & 0xff), msg]));
    return;
  }
  const hello = clientHello(received);
  if (!hello) return;
  // Versions above TLS 1.0 are answered with TLS 1.0, as old servers do.
  const version = Math.min(hello.version, 0x0301);
  const suite = LEGACY_ORDER.find((s) => hello.suites.includes(s));
  if (suite === undefined) {
    socket.end(record(21, version, Buffer.of(2, 40)));
    return;
  }
  const compression = hello.compression.includes(1) ? 1 : 0;
  const sh = Buffer.concat([
    u16(version),
    Buffer.alloc(32, 0x42),
    Buffer.of(0),
    u16(suite),
    Buffer.of(compression),
  ]);
  socket.end(record(22, version, Buffer.concat([handshake(2, sh), handshake(14, Buffer.alloc(0))])));
}

describe('scanTls against scripted and hostile servers', () => {
  test('a legacy server: SSLv2, SSLv3, TLS 1.0, server order, DEFLATE, no RFC 5746, no RFC 7507', async () => {
    const port = await rawServer(legacyServer);
    const r = await scanTls(target(port));
    assert.deepEqual(offered(r), ['SSLv2', 'SSLv3', 'TLSv1.0']);
    assert.equal(r.protocols['TLSv1.1'], false);
    assert.equal(r.protocols['TLSv1.2'], false);
    assert.equal(r.protocols['TLSv1.3'], false);
    assert.deepEqual(
      r.ciphers.SSLv2.map((s) => s.name),
      ['SSL_CK_RC4_128_WITH_MD5', 'SSL_CK_DES_192_EDE3_CBC_WITH_MD5'],
    );
    for (const p of ['SSLv3', 'TLSv1.0'] as const) {
      assert.deepEqual(
        r.ciphers[p].map((s) => s.name),
        ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA'],
        p,
      );
      assert.equal(r.serverPreference[p], true, p);
    }
    assert.equal(r.compression, true);
    assert.equal(r.secureRenegotiation, false);
    assert.equal(r.fallbackScsv, false);
    assert.deepEqual(r.groups, []);
  });

  test('a server that never answers: every probe times out, the scan still ends, within the bound', async () => {
    let accepted = 0;
    const port = await rawServer(
      () => {},
      () => {
        accepted++;
      },
    );
    const started = Date.now();
    const scan = scanTls(target(port, 400), { concurrency: 3 });
    // Every probe hangs until its 400 ms timeout, so before then only the first three can have connected.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(accepted, 3, 'connections opened before the first timeout');
    const r = await scan;
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.ok(Object.values(r.protocols).every((v) => v === null));
    assert.ok(
      r.notes.some((n) => /^TLSv1.2: no answer to its hellos within 400 ms; not determined$/.test(n)),
      r.notes.join('\n'),
    );
  });

  test('silence to one version while others are answered, also when retried alone: undetermined', async () => {
    const port = await rawServer((socket, received) => {
      if (clientHello(received)?.version === 0x0302) return; // TLS 1.1: no answer, ever
      legacyServer(socket, received);
    });
    const r = await scanTls(target(port, 300));
    assert.deepEqual(offered(r), ['SSLv2', 'SSLv3', 'TLSv1.0']);
    assert.equal(r.protocols['TLSv1.1'], null);
    assert.equal(r.protocols['TLSv1.2'], false);
    assert.ok(
      r.notes.some((n) => /^TLSv1.1: no answer to its hellos within 300 ms, even when retried alone/.test(n)),
      r.notes.join('\n'),
    );
  });

  test('a busy server, silent to the first three TLS 1.0 hellos: retried one at a time, found in full', async () => {
    let silenced = 0;
    const port = await rawServer((socket, received) => {
      if (clientHello(received)?.version === 0x0301 && silenced < 3) {
        silenced++;
        return;
      }
      legacyServer(socket, received);
    });
    const r = await scanTls(target(port, 300));
    assert.equal(silenced, 3);
    assert.deepEqual(offered(r), ['SSLv2', 'SSLv3', 'TLSv1.0']);
    assert.deepEqual(
      r.ciphers['TLSv1.0'].map((s) => s.name),
      ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA'],
    );
    assert.equal(r.serverPreference['TLSv1.0'], true);
    assert.ok(!r.notes.some((n) => n.includes('TLSv1.0')), r.notes.join('\n'));
  });

  // In the batch holding RC4-SHA and DES-CBC3-SHA, the second hello (RC4 removed) meets silence or a close once.
  for (const [what, act] of [
    ['silence', () => {}],
    ['a close', (socket: net.Socket) => socket.destroy()],
  ] as const) {
    test(`${what} once in the middle of a walk: the walk resumes, no suite lost`, async () => {
      let hits = 0;
      const port = await rawServer((socket, received) => {
        const hello = clientHello(received);
        if (hello?.version === 0x0301 && hello.suites.includes(0x000a) && !hello.suites.includes(0x0005)) {
          if (hits++ === 0) return act(socket);
        }
        legacyServer(socket, received);
      });
      const r = await scanTls(target(port, 300));
      assert.ok(hits >= 2, `the interrupted hello came again (${hits})`);
      assert.deepEqual(
        r.ciphers['TLSv1.0'].map((s) => s.name),
        ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA'],
      );
      assert.ok(!r.notes.some((n) => n.includes('TLSv1.0')), r.notes.join('\n'));
    });
  }

  test('SSLv2 silent once: retried, found', async () => {
    let silenced = 0;
    const port = await rawServer((socket, received) => {
      if ((received[0] as number) & 0x80 && silenced++ === 0) return;
      legacyServer(socket, received);
    });
    const r = await scanTls(target(port, 300));
    assert.equal(r.protocols.SSLv2, true);
    assert.equal(r.ciphers.SSLv2.length, 2);
  });

  test('a server that closes on every hello refuses everything', async () => {
    const port = await rawServer((socket) => socket.destroy());
    const r = await scanTls(target(port));
    assert.deepEqual(offered(r), []);
    assert.ok(Object.values(r.protocols).every((v) => v === false));
    assert.deepEqual(r.ciphers['TLSv1.2'], []);
  });

  test('a plaintext (SMTP) answer: not TLS, said in the notes', async () => {
    const port = await rawServer((socket) => socket.end('500 5.5.2 Error: bad syntax\r\n'));
    const r = await scanTls(target(port));
    assert.ok(Object.values(r.protocols).every((v) => v === null));
    assert.ok(
      r.notes.some((n) => n.includes('plaintext "500 5.5.2 Error: bad syntax"')),
      r.notes.join('\n'),
    );
  });

  test('a STARTTLS port scanned as implicit TLS (a "220" greeting): every protocol null, SSLv2 too', async () => {
    const port = await rawServer(
      () => {},
      (socket) => socket.write('220 mx.example ESMTP\r\n'),
    );
    const r = await scanTls(target(port));
    assert.deepEqual(r.protocols, {
      SSLv2: null,
      SSLv3: null,
      'TLSv1.0': null,
      'TLSv1.1': null,
      'TLSv1.2': null,
      'TLSv1.3': null,
    });
    assert.deepEqual(r.notes, [
      'no protocol tested: the port answered in plaintext "220 mx.example ESMTP", not TLS (a STARTTLS port?)',
    ]);
  });

  test('half a ServerHello, then close', async () => {
    const sh = record(22, 0x0303, handshake(2, Buffer.alloc(60, 3)));
    const port = await rawServer((socket) => socket.end(sh.subarray(0, 30)));
    const r = await scanTls(target(port));
    assert.equal(r.protocols['TLSv1.2'], null);
    assert.ok(
      r.notes.some((n) => /closed in the middle/.test(n)),
      r.notes.join('\n'),
    );
  });

  test('a ServerHello naming a suite that was not offered', async () => {
    const port = await rawServer((socket, received) => {
      const hello = clientHello(received);
      if (!hello) return;
      const sh = Buffer.concat([
        u16(hello.version),
        Buffer.alloc(32),
        Buffer.of(0),
        u16(0x0a0a),
        Buffer.of(0),
      ]);
      socket.end(record(22, hello.version, handshake(2, sh)));
    });
    const r = await scanTls(target(port));
    assert.ok(
      r.notes.some((n) => /UNKNOWN_0x0a0a, which the hello did not offer/.test(n)),
      r.notes.join('\n'),
    );
    assert.deepEqual(r.ciphers['TLSv1.2'], []);
  });

  // A STARTTLS server in front of the legacy one whose very first connection is refused: a "421 busy" greeting
  // or a TCP reset. That must not void the scan: the first connection is retried too.
  for (const first of ['a 421 greeting', 'a reset'] as const) {
    test(`STARTTLS, first connection met with ${first}: retried, the scan goes on`, async () => {
      let connections = 0;
      const port = await rawServer(
        (socket, received) => {
          const text = received.toString('latin1');
          const tls = text.indexOf('STARTTLS\r\n');
          if (tls >= 0) {
            const rest = received.subarray(tls + 10);
            if (rest.length === 0) socket.write('220 2.0.0 go ahead\r\n');
            else legacyServer(socket, rest);
          } else if (text.endsWith('\r\n') && /^EHLO /m.test(text)) {
            socket.write('250-mx.example\r\n250 STARTTLS\r\n');
          }
        },
        (socket) => {
          if (connections++ > 0) socket.write('220 mx.example ESMTP\r\n');
          else if (first === 'a reset') socket.resetAndDestroy();
          else socket.end('421 4.3.2 mx.example busy, try again later\r\n');
        },
      );
      const r = await scanTls({ ...target(port), mode: 'starttls' });
      assert.deepEqual(offered(r), ['SSLv2', 'SSLv3', 'TLSv1.0']);
      assert.equal(r.ciphers['TLSv1.0'].length, 3);
      assert.equal(r.connections, connections, 'the refused first connection is counted too');
      assert.ok(!r.notes.some((n) => /could be opened/.test(n)), r.notes.join('\n'));
    });
  }

  test('nothing listening: all null, one connection, a note', async () => {
    const port = await freePort();
    const r = await scanTls(target(port));
    assert.ok(Object.values(r.protocols).every((v) => v === null));
    assert.equal(r.connections, 1);
    assert.equal(r.notes.length, 1);
    assert.ok(
      r.notes.some((n) => /no TLS probe connection could be opened/.test(n)),
      r.notes.join('\n'),
    );
  });

  test('abort ends the scan with EABORTED', async () => {
    const port = await rawServer(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await assert.rejects(scanTls(target(port, 10_000), { signal: controller.signal }), { code: 'EABORTED' });
    assert.ok(Date.now() - started < 2000);
  });
});
