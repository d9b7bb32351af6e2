// ClientHello builder: records parsed back field by field (the parser below is the test's own, written
// from RFC 5246 / RFC 8446 / the SSLv2 draft, not from hello.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  batches,
  buildClientHello,
  buildSslv2ClientHello,
  DEFAULT_TLS13_GROUPS,
  EMPTY_RENEGOTIATION_INFO_SCSV,
  FALLBACK_SCSV,
  MAX_SUITES_PER_HELLO,
  makeKeyShare,
  NAMED_GROUPS,
} from '../../../src/audit/tls/hello.js';
import { LEGACY_SUITES, suiteCode } from '../../../src/audit/tls/suites.js';

interface ParsedHello {
  recordVersions: number[];
  records: number;
  totalLength: number;
  handshakeLength: number;
  version: number;
  sessionId: Buffer;
  suites: number[];
  compression: number[];
  extensions: Map<number, Buffer>;
  extensionOrder: number[];
}

function parseClientHello(wire: Buffer): ParsedHello {
  const recordVersions: number[] = [];
  const fragments: Buffer[] = [];
  let pos = 0;
  while (pos < wire.length) {
    assert.equal(wire[pos], 22, 'handshake record');
    recordVersions.push(wire.readUInt16BE(pos + 1));
    const len = wire.readUInt16BE(pos + 3);
    assert.ok(len <= 16_384);
    fragments.push(wire.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  assert.equal(pos, wire.length, 'no trailing bytes');
  const hs = Buffer.concat(fragments);
  assert.equal(hs[0], 1, 'ClientHello');
  const handshakeLength = hs.readUIntBE(1, 3);
  assert.equal(handshakeLength, hs.length - 4);
  let p = 4;
  const version = hs.readUInt16BE(p);
  p += 2 + 32;
  const sidLen = hs[p] as number;
  const sessionId = hs.subarray(p + 1, p + 1 + sidLen);
  p += 1 + sidLen;
  const suitesLen = hs.readUInt16BE(p);
  const suites: number[] = [];
  for (let i = 0; i < suitesLen; i += 2) suites.push(hs.readUInt16BE(p + 2 + i));
  p += 2 + suitesLen;
  const compLen = hs[p] as number;
  const compression = [...hs.subarray(p + 1, p + 1 + compLen)];
  p += 1 + compLen;
  const extensions = new Map<number, Buffer>();
  const extensionOrder: number[] = [];
  if (p < hs.length) {
    const extLen = hs.readUInt16BE(p);
    p += 2;
    assert.equal(p + extLen, hs.length, 'extensions fill the rest');
    while (p < hs.length) {
      const type = hs.readUInt16BE(p);
      const len = hs.readUInt16BE(p + 2);
      assert.ok(!extensions.has(type), `duplicate extension ${type}`);
      extensions.set(type, hs.subarray(p + 4, p + 4 + len));
      extensionOrder.push(type);
      p += 4 + len;
    }
    assert.equal(p, hs.length);
  }
  return {
    recordVersions,
    records: fragments.length,
    totalLength: wire.length,
    handshakeLength,
    version,
    sessionId,
    suites,
    compression,
    extensions,
    extensionOrder,
  };
}

const u16s = (b: Buffer, skip: number) => {
  const out: number[] = [];
  for (let i = skip; i < b.length; i += 2) out.push(b.readUInt16BE(i));
  return out;
};

describe('TLS ClientHello', () => {
  test('TLS 1.2: version, suites in order, SNI, groups, signature algorithms, renegotiation_info', () => {
    const h = parseClientHello(
      buildClientHello({ version: 'TLSv1.2', suites: [0xc02f, 0x002f], servername: 'mx.example.org.' }),
    );
    assert.deepEqual(h.recordVersions, [0x0301]);
    assert.equal(h.version, 0x0303);
    assert.deepEqual(h.suites, [0xc02f, 0x002f]);
    assert.deepEqual(h.compression, [0]);
    assert.equal(h.sessionId.length, 0);
    const sni = h.extensions.get(0);
    assert.ok(sni);
    assert.equal(sni.subarray(5).toString(), 'mx.example.org');
    assert.deepEqual([...(h.extensions.get(0xff01) ?? [])], [0]);
    assert.ok(u16s(h.extensions.get(10) as Buffer, 2).includes(NAMED_GROUPS['x25519'] as number));
    assert.ok(!u16s(h.extensions.get(10) as Buffer, 2).includes(256), 'no FFDHE groups below TLS 1.3');
    assert.ok(u16s(h.extensions.get(13) as Buffer, 2).includes(0x0804));
    assert.ok(!h.extensions.has(43), 'no supported_versions below TLS 1.3');
  });

  test('TLS 1.0/1.1: no signature_algorithms; IP literals get no SNI', () => {
    for (const version of ['TLSv1.0', 'TLSv1.1'] as const) {
      const h = parseClientHello(buildClientHello({ version, suites: [0x002f], servername: '127.0.0.1' }));
      assert.equal(h.version, version === 'TLSv1.0' ? 0x0301 : 0x0302);
      assert.ok(!h.extensions.has(13));
      assert.ok(!h.extensions.has(0));
    }
  });

  test('SSLv3: no extensions, renegotiation signalled by the SCSV; fallback SCSV last', () => {
    const wire = buildClientHello({ version: 'SSLv3', suites: [0x000a], fallbackScsv: true });
    const h = parseClientHello(wire);
    assert.deepEqual(h.recordVersions, [0x0300]);
    assert.equal(h.version, 0x0300);
    assert.deepEqual(h.suites, [0x000a, EMPTY_RENEGOTIATION_INFO_SCSV, FALLBACK_SCSV]);
    assert.equal(h.extensions.size, 0);
  });

  test('TLS 1.3: supported_versions, a real X25519 key share, legacy session id', () => {
    const h = parseClientHello(buildClientHello({ version: 'TLSv1.3', suites: [0x1301, 0x1302] }));
    assert.equal(h.version, 0x0303);
    assert.equal(h.sessionId.length, 32);
    assert.deepEqual([...(h.extensions.get(43) ?? [])], [2, 0x03, 0x04]);
    assert.deepEqual(u16s(h.extensions.get(10) as Buffer, 2), [...DEFAULT_TLS13_GROUPS]);
    const ks = h.extensions.get(51) as Buffer;
    assert.equal(ks.readUInt16BE(0), ks.length - 2);
    assert.equal(ks.readUInt16BE(2), 29);
    assert.equal(ks.readUInt16BE(4), 32);
    assert.ok(!ks.subarray(6).equals(Buffer.alloc(32)));
    assert.ok(h.extensions.has(13));
    assert.ok(!h.extensions.has(0xff01));
  });

  test('TLS 1.3: explicit groups and empty key shares (to ask for a HelloRetryRequest)', () => {
    const h = parseClientHello(
      buildClientHello({ version: 'TLSv1.3', suites: [0x1301], groups: [256], keyShares: [] }),
    );
    assert.deepEqual(u16s(h.extensions.get(10) as Buffer, 2), [256]);
    assert.deepEqual([...(h.extensions.get(51) ?? [])], [0, 0]);
  });

  test('key shares from node:crypto have the wire sizes of their groups', () => {
    const sizes = { 29: 32, 30: 56, 23: 65, 24: 97, 25: 133 } as const;
    for (const [group, size] of Object.entries(sizes)) {
      const share = makeKeyShare(Number(group));
      assert.equal(share?.publicKey.length, size, `group ${group}`);
    }
    assert.equal(makeKeyShare(256), undefined);
  });

  test('compression: DEFLATE offered before null', () => {
    const h = parseClientHello(buildClientHello({ version: 'TLSv1.2', suites: [0x002f], compression: true }));
    assert.deepEqual(h.compression, [1, 0]);
  });

  test('hello messages of 256–511 bytes are padded to 512 (RFC 7685); batches stay near 512 bytes', () => {
    for (let n = 1; n <= MAX_SUITES_PER_HELLO; n += 7) {
      for (const version of ['TLSv1.0', 'TLSv1.2', 'TLSv1.3'] as const) {
        const suites = LEGACY_SUITES.slice(0, n).map(suiteCode);
        const h = parseClientHello(buildClientHello({ version, suites, servername: 'mx.example.org' }));
        const message = h.handshakeLength + 4;
        assert.ok(message < 256 || message >= 512, `${version} ${n}: ${message}`);
        assert.ok(h.totalLength <= 600, `${version} ${n} suites: ${h.totalLength} bytes`);
      }
    }
    const full = batches(LEGACY_SUITES.map(suiteCode));
    assert.equal(full.length, Math.ceil(LEGACY_SUITES.length / MAX_SUITES_PER_HELLO));
    assert.deepEqual(full.flat(), LEGACY_SUITES.map(suiteCode));
  });

  test('a hello above 16 KiB is split over records', () => {
    const suites = Array.from({ length: 9000 }, (_, i) => i % 0xfff0);
    const wire = buildClientHello({ version: 'TLSv1.2', suites });
    const h = parseClientHello(wire);
    assert.ok(h.records >= 2);
    assert.deepEqual(h.suites, suites);
  });

  test('rejects an empty suite list', () => {
    assert.throws(() => buildClientHello({ version: 'TLSv1.2', suites: [] }), { code: 'EINVALID_ARGUMENT' });
    assert.throws(() => buildSslv2ClientHello([]), { code: 'EINVALID_ARGUMENT' });
  });
});

describe('SSLv2 CLIENT-HELLO', () => {
  test('two-byte header, version 2, 3-byte kinds, 16-byte challenge', () => {
    const challenge = Buffer.alloc(16, 7);
    const wire = buildSslv2ClientHello([0x010080, 0x0700c0], challenge);
    assert.equal(wire[0]! & 0x80, 0x80);
    const len = ((wire[0]! & 0x7f) << 8) | wire[1]!;
    assert.equal(len, wire.length - 2);
    const body = wire.subarray(2);
    assert.equal(body[0], 1);
    assert.equal(body.readUInt16BE(1), 0x0002);
    assert.equal(body.readUInt16BE(3), 6);
    assert.equal(body.readUInt16BE(5), 0);
    assert.equal(body.readUInt16BE(7), 16);
    assert.equal(body.subarray(9, 15).toString('hex'), '0100800700c0');
    assert.ok(body.subarray(15).equals(challenge));
  });
});
