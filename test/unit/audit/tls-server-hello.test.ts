// Server flight parsing: canned ServerHello / HelloRetryRequest / alert / SSLv2 bytes, delivered whole and
// in pieces, and hostile input (truncated, garbage, oversized) that must end in a typed error, never a hang.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  FlightParser,
  MAX_FLIGHT_BYTES,
  parseServerHello,
  parseServerKeyExchange,
  parseSslv2Message,
  type ReplyParser,
  type ServerReply,
  Sslv2Parser,
} from '../../../src/audit/tls/server-hello.js';
import { PosternError, TlsError } from '../../../src/core/errors.js';

const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

const u16 = (v: number) => Buffer.of(v >> 8, v & 0xff);
const u24 = (v: number) => Buffer.of(v >> 16, (v >> 8) & 0xff, v & 0xff);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const record = (type: number, body: Buffer, version = 0x0303) =>
  Buffer.concat([Buffer.of(type), u16(version), u16(body.length), body]);
const handshake = (type: number, body: Buffer) => Buffer.concat([Buffer.of(type), u24(body.length), body]);
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), vec16(data)]);

function serverHelloBody(o: {
  version?: number;
  suite: number;
  compression?: number;
  random?: Buffer;
  extensions?: Buffer[];
}): Buffer {
  const parts = [
    u16(o.version ?? 0x0303),
    o.random ?? Buffer.alloc(32, 0x11),
    Buffer.of(0),
    u16(o.suite),
    Buffer.of(o.compression ?? 0),
  ];
  if (o.extensions) parts.push(vec16(Buffer.concat(o.extensions)));
  return Buffer.concat(parts);
}

/** Feeds `bytes` in the given chunk sizes; returns the first result, or end()'s. */
function run<T>(parser: ReplyParser<T>, bytes: Buffer, chunk = bytes.length): T {
  for (let i = 0; i < bytes.length; i += chunk) {
    const r = parser.feed(bytes.subarray(i, i + chunk));
    if (r !== undefined) return r;
  }
  return parser.end();
}

const hello = (r: ServerReply) => {
  assert.equal(r.kind, 'hello');
  return r as Extract<ServerReply, { kind: 'hello' }>;
};

describe('ServerHello parsing', () => {
  test('TLS 1.2 ServerHello with renegotiation_info, byte by byte', () => {
    const body = serverHelloBody({
      suite: 0xc02f,
      extensions: [ext(0xff01, Buffer.of(0)), ext(11, Buffer.of(1, 0))],
    });
    const bytes = record(22, handshake(2, body));
    for (const chunk of [bytes.length, 1, 3]) {
      const r = hello(run(new FlightParser('hello'), bytes, chunk));
      assert.equal(r.hello.version, 0x0303);
      assert.equal(r.hello.cipherSuite, 0xc02f);
      assert.equal(r.hello.compression, 0);
      assert.equal(r.hello.secureRenegotiation, true);
      assert.equal(r.hello.helloRetryRequest, false);
    }
  });

  test('TLS 1.3: version from supported_versions, key share group; HelloRetryRequest recognised', () => {
    const sh = serverHelloBody({
      suite: 0x1302,
      extensions: [ext(43, u16(0x0304)), ext(51, Buffer.concat([u16(29), vec16(Buffer.alloc(32, 9))]))],
    });
    // ServerHello, then the middlebox-compat ChangeCipherSpec and encrypted records.
    const flight = Buffer.concat([
      record(22, handshake(2, sh)),
      record(20, Buffer.of(1)),
      record(23, Buffer.alloc(40, 0xaa)),
    ]);
    const r = hello(run(new FlightParser('done'), flight));
    assert.equal(r.hello.version, 0x0304);
    assert.equal(r.hello.legacyVersion, 0x0303);
    assert.equal(r.hello.selectedGroup, 29);
    assert.equal(r.done, false);

    const hrr = serverHelloBody({
      suite: 0x1301,
      random: HRR_RANDOM,
      extensions: [ext(43, u16(0x0304)), ext(51, u16(24))],
    });
    const h = hello(run(new FlightParser('done'), record(22, handshake(2, hrr))));
    assert.equal(h.hello.helloRetryRequest, true);
    assert.equal(h.hello.selectedGroup, 24);
    assert.equal(h.hello.cipherSuite, 0x1301);
  });

  test("until 'done': Certificate and ServerKeyExchange collected up to ServerHelloDone, over records", () => {
    const ske = Buffer.concat([
      Buffer.of(3),
      u16(23),
      Buffer.of(65),
      Buffer.alloc(65, 4),
      Buffer.alloc(72, 5),
    ]);
    const messages = Buffer.concat([
      handshake(2, serverHelloBody({ suite: 0xc02f })),
      handshake(11, Buffer.alloc(600, 1)),
      handshake(12, ske),
      handshake(14, Buffer.alloc(0)),
    ]);
    // One handshake stream cut across three records at odd places.
    const bytes = Buffer.concat([
      record(22, messages.subarray(0, 50)),
      record(22, messages.subarray(50, 400)),
      record(22, messages.subarray(400)),
    ]);
    const r = hello(run(new FlightParser('done'), bytes, 7));
    assert.equal(r.done, true);
    assert.equal(r.certificate, true);
    assert.deepEqual(parseServerKeyExchange(r.serverKeyExchange as Buffer, 'ECDHE'), { group: 23 });
  });

  test('ServerKeyExchange: DH prime size in bits, PSK hint skipped', () => {
    const p = Buffer.concat([Buffer.of(0x00, 0x7f), Buffer.alloc(255, 0xff)]); // leading zero byte, 255+7 bits
    const dh = Buffer.concat([vec16(p), vec16(Buffer.of(2)), vec16(Buffer.alloc(256, 3))]);
    assert.deepEqual(parseServerKeyExchange(dh, 'DHE'), { dhBits: 2047 });
    const withHint = Buffer.concat([vec16(Buffer.from('hint')), dh]);
    assert.deepEqual(parseServerKeyExchange(withHint, 'DHE-PSK'), { dhBits: 2047 });
    assert.deepEqual(parseServerKeyExchange(Buffer.alloc(10), 'RSA'), {});
    assert.throws(() => parseServerKeyExchange(Buffer.of(0, 5, 1), 'DHE'), TlsError);
    assert.throws(() => parseServerKeyExchange(vec16(Buffer.alloc(4)), 'DHE'), TlsError);
  });

  test('alerts', () => {
    const r = run(new FlightParser(), record(21, Buffer.of(2, 40)));
    assert.deepEqual(r, { kind: 'alert', level: 2, description: 40, name: 'handshake_failure' });
    const fallback = run(new FlightParser(), record(21, Buffer.of(2, 86), 0x0301));
    assert.equal(fallback.kind === 'alert' && fallback.name, 'inappropriate_fallback');
    const odd = run(new FlightParser(), record(21, Buffer.of(2, 222)));
    assert.equal(odd.kind === 'alert' && odd.name, 'alert_222');
    // An alert after the ServerHello leaves the ServerHello as the answer.
    const late = Buffer.concat([
      record(22, handshake(2, serverHelloBody({ suite: 0x2f }))),
      record(21, Buffer.of(2, 80)),
    ]);
    assert.equal(hello(run(new FlightParser('done'), late)).hello.cipherSuite, 0x2f);
  });

  test('closed before any byte is a value, not an error', () => {
    assert.deepEqual(new FlightParser().end(), { kind: 'closed' });
  });

  test('hostile input ends in TlsError ETLS_HANDSHAKE', () => {
    const cases: [string, Buffer][] = [
      ['SSLv2-style reply', Buffer.of(0x80, 0x03, 0x00, 0x00, 0x01)],
      ['oversized record', Buffer.concat([Buffer.of(22, 3, 3), u16(30_000)])],
      ['short alert', record(21, Buffer.of(2))],
      ['certificate before ServerHello', record(22, handshake(11, Buffer.alloc(3)))],
      ['application data before ServerHello', record(23, Buffer.alloc(5))],
      ['truncated ServerHello body', record(22, handshake(2, Buffer.alloc(10)))],
      [
        'session id too long',
        record(
          22,
          handshake(2, Buffer.concat([u16(0x0303), Buffer.alloc(32), Buffer.of(33), Buffer.alloc(40)])),
        ),
      ],
      [
        'extension overruns',
        record(22, handshake(2, Buffer.concat([serverHelloBody({ suite: 1 }), u16(10), u16(1), u16(50)]))),
      ],
      [
        'trailing bytes',
        record(
          22,
          handshake(2, Buffer.concat([serverHelloBody({ suite: 1, extensions: [] }), Buffer.of(0)])),
        ),
      ],
    ];
    for (const [what, bytes] of cases) {
      assert.throws(
        () => run(new FlightParser(), bytes),
        (err: unknown) => {
          assert.ok(err instanceof TlsError, `${what}: ${String(err)}`);
          assert.equal(err.code, 'ETLS_HANDSHAKE', what);
          return true;
        },
      );
    }
  });

  test('a plaintext answer (an SMTP greeting or reply) is ETLS_PLAINTEXT_PORT, quoting its first line', () => {
    for (const text of ['220 mx ESMTP\r\n', '500 5.5.1 unrecognized command\r\n250 more\r\n']) {
      assert.throws(
        () => run(new FlightParser(), Buffer.from(text)),
        (err: unknown) => {
          assert.ok(err instanceof TlsError);
          assert.equal(err.code, 'ETLS_PLAINTEXT_PORT');
          assert.match(err.message, new RegExp(`plaintext "${text.split('\r')[0]}"`));
          return true;
        },
      );
    }
    // Binary garbage stays a malformed reply.
    assert.throws(() => run(new FlightParser(), Buffer.of(0x99, 1, 2, 3, 4, 5)), { code: 'ETLS_HANDSHAKE' });
  });

  test('a flight cut short is an error; one that never ends is bounded', () => {
    const full = record(22, handshake(2, serverHelloBody({ suite: 0xc02f })));
    for (const cut of [1, 4, 5, 20, full.length - 1]) {
      assert.throws(() => run(new FlightParser(), full.subarray(0, cut)), { code: 'ETLS_HANDSHAKE' });
    }
    // A server that streams certificate records forever hits the byte bound.
    const parser = new FlightParser('done');
    parser.feed(full);
    const filler = record(22, handshake(11, Buffer.alloc(16_000)).subarray(0, 16_000));
    assert.throws(() => {
      for (let sent = 0; sent <= MAX_FLIGHT_BYTES; sent += filler.length) parser.feed(filler);
    }, /larger than/);
  });

  test('random bytes never throw anything but PosternError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, done) => {
        for (const parser of [new FlightParser(done ? 'done' : 'hello'), new Sslv2Parser()]) {
          try {
            run(parser as ReplyParser<unknown>, Buffer.from(bytes), 13);
          } catch (err) {
            assert.ok(err instanceof PosternError, String(err));
          }
        }
      }),
      { numRuns: 500 },
    );
    // Structured noise: a valid record header around random handshake bytes.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 200 }), (body) => {
        try {
          run(
            new FlightParser('done'),
            record(22, Buffer.concat([Buffer.of(2), u24(body.length), Buffer.from(body)])),
          );
        } catch (err) {
          assert.ok(err instanceof PosternError, String(err));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('parseServerHello directly', () => {
    const h = parseServerHello(serverHelloBody({ version: 0x0300, suite: 0x000a, compression: 1 }));
    assert.equal(h.version, 0x0300);
    assert.equal(h.compression, 1);
    assert.equal(h.secureRenegotiation, false);
    assert.deepEqual(h.extensions, []);
  });
});

describe('SSLv2 replies', () => {
  const serverHello = (kinds: number[], cert = Buffer.alloc(20, 0x30)) => {
    const specs = Buffer.concat(kinds.map((k) => u24(k)));
    const connectionId = Buffer.alloc(16, 1);
    return Buffer.concat([
      Buffer.of(4, 0, 1),
      u16(0x0002),
      u16(cert.length),
      u16(specs.length),
      u16(connectionId.length),
      cert,
      specs,
      connectionId,
    ]);
  };

  test('SERVER-HELLO with a 2-byte and a 3-byte header, in pieces', () => {
    const msg = serverHello([0x010080, 0x0700c0]);
    const two = Buffer.concat([Buffer.of(0x80 | (msg.length >> 8), msg.length & 0xff), msg]);
    for (const chunk of [two.length, 1, 5]) {
      const r = run(new Sslv2Parser(), two, chunk);
      assert.equal(r.kind, 'sslv2-hello');
      assert.deepEqual(r.kind === 'sslv2-hello' && r.cipherKinds, [0x010080, 0x0700c0]);
    }
    const three = Buffer.concat([Buffer.of(msg.length >> 8, msg.length & 0xff, 0), msg]);
    assert.equal(run(new Sslv2Parser(), three).kind, 'sslv2-hello');
  });

  test('ERROR message, TLS alert, TLS ServerHello, close', () => {
    assert.deepEqual(run(new Sslv2Parser(), Buffer.of(0x80, 3, 0, 0, 1)), { kind: 'sslv2-error', code: 1 });
    const alert = run(new Sslv2Parser(), record(21, Buffer.of(2, 70), 0x0301), 1);
    assert.equal(alert.kind, 'tls');
    assert.equal(alert.kind === 'tls' && alert.reply.kind, 'alert');
    const tls = run(new Sslv2Parser(), record(22, handshake(2, serverHelloBody({ suite: 0x2f }))));
    assert.equal(tls.kind === 'tls' && tls.reply.kind, 'hello');
    assert.deepEqual(new Sslv2Parser().end(), { kind: 'closed' });
  });

  test('garbage and truncation', () => {
    assert.throws(() => run(new Sslv2Parser(), Buffer.from('554 go away\r\n')), {
      code: 'ETLS_PLAINTEXT_PORT',
    });
    assert.throws(() => run(new Sslv2Parser(), Buffer.of(0x80, 0x10, 4, 0)), { code: 'ETLS_HANDSHAKE' });
    assert.throws(() => parseSslv2Message(Buffer.of(7)), { code: 'ETLS_HANDSHAKE' });
    const badSpecs = serverHello([0x010080]);
    badSpecs.writeUInt16BE(4, 7); // 4 bytes of cipher specs: not a multiple of 3
    assert.throws(() => parseSslv2Message(badSpecs), { code: 'ETLS_HANDSHAKE' });
    assert.throws(() => parseSslv2Message(serverHello([0x010080]).subarray(0, 12)), {
      code: 'ETLS_HANDSHAKE',
    });
  });
});
