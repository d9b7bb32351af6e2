// The DNS wire format of src/net/dns-message.ts: queries as built, replies as read.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { parseResolverAddress, systemResolver } from '../../../src/net/dns-client.js';
import { answersFor, decodeMessage, encodeQuery, normalizeName } from '../../../src/net/dns-message.js';
import { removeTempDir, tempDir } from '../../helpers/tmp.js';
import { message, name, question, rr } from './dns-wire.js';

describe('encodeQuery', () => {
  test('one question with RD, and an EDNS0 OPT record with the DO bit and a 1232-octet UDP size', () => {
    const q = encodeQuery(0xbeef, 'Example.TEST.', 'TLSA');
    assert.equal(q.readUInt16BE(0), 0xbeef);
    const flags = q.readUInt16BE(2);
    assert.equal(flags & 0x8000, 0, 'QR clear: a query');
    assert.equal(flags & 0x0100, 0x0100, 'RD set');
    assert.deepEqual(
      [q.readUInt16BE(4), q.readUInt16BE(6), q.readUInt16BE(8), q.readUInt16BE(10)],
      [1, 0, 0, 1],
    );
    // The name is lower-cased, the trailing dot dropped: 7 "example" 4 "test" 0, then type 52, class IN.
    const qname = Buffer.from('\x07example\x04test\x00', 'latin1');
    assert.deepEqual(q.subarray(12, 12 + qname.length), qname);
    const after = 12 + qname.length;
    assert.equal(q.readUInt16BE(after), 52);
    assert.equal(q.readUInt16BE(after + 2), 1);
    // OPT: root name, type 41, class = UDP size, TTL = ext-rcode 0, version 0, DO bit.
    const opt = q.subarray(after + 4);
    assert.equal(opt.length, 11);
    assert.equal(opt[0], 0);
    assert.equal(opt.readUInt16BE(1), 41);
    assert.equal(opt.readUInt16BE(3), 1232);
    assert.equal(opt.readUInt32BE(5), 0x8000);
    assert.equal(opt.readUInt16BE(9), 0);
  });

  test('our own decoder reads the query back', () => {
    const m = decodeMessage(encodeQuery(7, '_25._tcp.mx.example.test', 'TLSA'));
    assert.equal(m.id, 7);
    assert.equal(m.response, false);
    assert.deepEqual(m.question, [{ name: '_25._tcp.mx.example.test', type: 52, class: 1 }]);
    assert.deepEqual(m.edns, { udpSize: 1232, version: 0, dnssecOk: true });
  });

  test('names that cannot be sent are refused with EINVALID_ARGUMENT', () => {
    for (const bad of [
      'a'.repeat(64) + '.test',
      `${'abcdefghi.'.repeat(26)}test`,
      'bücher.test',
      'a..b',
      'sp ace.test',
    ]) {
      assert.throws(
        () => encodeQuery(1, bad, 'A'),
        (err: unknown) => err instanceof InputError && err.code === 'EINVALID_ARGUMENT',
        bad,
      );
    }
    // 63-octet labels are fine.
    assert.doesNotThrow(() => encodeQuery(1, `${'a'.repeat(63)}.test`, 'A'));
  });
});

describe('decodeMessage', () => {
  test('reads A, AAAA, MX (compressed), TXT with several strings, TLSA and CNAME records', () => {
    const buf = message({
      id: 42,
      flags: 0x8180 | 0x0020,
      question: question('example.test', 15),
      answers: [
        rr(
          name('example.test'),
          15,
          Buffer.concat([Buffer.from([0, 10]), Buffer.from('\x02mx\xc0\x0c', 'latin1')]),
        ),
        rr(Buffer.from([0xc0, 0x0c]), 16, Buffer.from('\x0bv=STSv1; id\x03=42', 'latin1')),
        rr(name('mx.example.test'), 1, Buffer.from([127, 0, 0, 1])),
        rr(name('mx.example.test'), 28, Buffer.from('20010db8000000000000000000000001', 'hex')),
        rr(name('_25._tcp.mx.example.test'), 52, Buffer.from('030101abcdef', 'hex')),
        rr(name('www.example.test'), 5, name('mx.example.test')),
      ],
    });
    const m = decodeMessage(buf);
    assert.equal(m.id, 42);
    assert.equal(m.response, true);
    assert.equal(m.flags.ad, true);
    assert.equal(m.flags.tc, false);
    assert.equal(m.rcode, 0);
    const [mx, txt, a, aaaa, tlsa, cname] = m.answers;
    assert.deepEqual(mx, {
      name: 'example.test',
      ttl: 300,
      type: 'MX',
      preference: 10,
      exchange: 'mx.example.test',
    });
    assert.deepEqual(txt, { name: 'example.test', ttl: 300, type: 'TXT', strings: ['v=STSv1; id', '=42'] });
    assert.deepEqual(a, { name: 'mx.example.test', ttl: 300, type: 'A', address: '127.0.0.1' });
    assert.deepEqual(aaaa, { name: 'mx.example.test', ttl: 300, type: 'AAAA', address: '2001:db8::1' });
    assert.equal(tlsa?.type, 'TLSA');
    if (tlsa?.type === 'TLSA') {
      assert.deepEqual([tlsa.usage, tlsa.selector, tlsa.matchingType], [3, 1, 1]);
      assert.equal(tlsa.data.toString('hex'), 'abcdef');
    }
    assert.deepEqual(cname, { name: 'www.example.test', ttl: 300, type: 'CNAME', target: 'mx.example.test' });
  });

  test('names come back lower-case; odd octets in labels are escaped so they cannot fake a dot', () => {
    const buf = message({
      question: question('example.test', 1),
      answers: [rr(Buffer.from('\x03A.B\x07EXAMPLE\x04test\x00', 'latin1'), 1, Buffer.from([1, 2, 3, 4]))],
    });
    assert.equal(decodeMessage(buf).answers[0]?.name, 'a\\046b.example.test');
  });

  test('EDNS: the OPT record is taken out of the additional section and extends the rcode', () => {
    // Extended rcode 1 in the OPT TTL's top octet + header rcode 0 = 16 (BADVERS).
    const opt = Buffer.concat([Buffer.from([0, 0, 41, 0x04, 0xd0, 0x01, 0x00, 0x80, 0x00, 0, 0])]);
    const buf = message({ question: question('example.test', 1), additional: [opt], flags: 0x8180 });
    const m = decodeMessage(buf);
    assert.equal(m.rcode, 16);
    assert.deepEqual(m.edns, { udpSize: 1232, version: 0, dnssecOk: true });
    assert.deepEqual(m.additional, []);
  });

  test('a TTL with the top bit set counts as 0 (RFC 2181 §8); unknown types and classes are kept raw', () => {
    const buf = message({
      question: question('example.test', 1),
      answers: [
        rr(name('example.test'), 1, Buffer.from([1, 1, 1, 1]), { ttl: 0x8000_0001 }),
        rr(name('example.test'), 46, Buffer.from('0102', 'hex')),
        rr(name('example.test'), 1, Buffer.from('abc'), { klass: 3 }),
      ],
    });
    const [a, rrsig, chaos] = decodeMessage(buf).answers;
    assert.equal(a?.ttl, 0);
    assert.deepEqual(rrsig?.type === 'OTHER' && [rrsig.code, rrsig.data.toString('hex')], [46, '0102']);
    assert.equal(chaos?.type, 'OTHER');
  });

  test('the header flags and rcode are read bit for bit', () => {
    const m = decodeMessage(
      message({ flags: 0x8000 | 0x0400 | 0x0200 | 0x0010 | 3, question: question('x.test', 1) }),
    );
    assert.deepEqual(m.flags, { aa: true, tc: true, rd: false, ra: false, ad: false, cd: true });
    assert.equal(m.rcode, 3);
  });
});

describe('answersFor', () => {
  const m = decodeMessage(
    message({
      question: question('www.example.test', 1),
      answers: [
        rr(name('www.example.test'), 5, name('alias.example.test')),
        rr(name('alias.example.test'), 5, name('host.example.test')),
        rr(name('host.example.test'), 1, Buffer.from([10, 0, 0, 1])),
        rr(name('other.example.test'), 1, Buffer.from([10, 0, 0, 2])),
        rr(name('loop1.example.test'), 5, name('loop2.example.test')),
        rr(name('loop2.example.test'), 5, name('loop1.example.test')),
      ],
    }),
  );

  test('follows CNAMEs to the records of the type asked for, and nothing else', () => {
    assert.deepEqual(
      answersFor(m, 'WWW.example.test.', 'A').map((r) => r.address),
      ['10.0.0.1'],
    );
    assert.deepEqual(answersFor(m, 'www.example.test', 'MX'), []);
    assert.equal(answersFor(m, 'www.example.test', 'CNAME').length, 1);
  });

  test('a CNAME loop ends with no records', () => {
    assert.deepEqual(answersFor(m, 'loop1.example.test', 'A'), []);
  });

  test('normalizeName lower-cases and drops one trailing dot', () => {
    assert.equal(normalizeName('MX.Example.TEST.'), 'mx.example.test');
    assert.equal(normalizeName('.'), '');
  });
});

describe('resolver addresses', () => {
  test('parseResolverAddress takes host:port, [v6]:port and bare addresses', () => {
    assert.deepEqual(parseResolverAddress('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseResolverAddress('[::1]:53'), { host: '::1', port: 53 });
    assert.deepEqual(parseResolverAddress('::1'), { host: '::1', port: 53 });
    assert.deepEqual(parseResolverAddress(' 10.1.2.3 '), { host: '10.1.2.3', port: 53 });
    for (const bad of ['localhost:53', '127.0.0.1:0', '127.0.0.1:70000', '', 'ns.example.test']) {
      assert.throws(() => parseResolverAddress(bad), InputError, bad);
    }
  });

  test('systemResolver uses the first usable nameserver line, else 127.0.0.1 like glibc', async () => {
    const dir = await tempDir('resolvconf');
    try {
      const file = join(dir, 'resolv.conf');
      await writeFile(
        file,
        '# comment\nsearch example.test\nnameserver not-an-ip\nnameserver 192.0.2.53 # x\nnameserver ::1\n',
      );
      assert.deepEqual(await systemResolver(file), { host: '192.0.2.53', port: 53 });
      await writeFile(file, 'options ndots:2\n');
      assert.deepEqual(await systemResolver(file), { host: '127.0.0.1', port: 53 });
      assert.deepEqual(await systemResolver(join(dir, 'missing')), { host: '127.0.0.1', port: 53 });
    } finally {
      await removeTempDir(dir);
    }
  });
});
