// DnsClient (src/net/dns-client.ts) against python3-dnslib serving a zone on loopback: record types, the DO
// and AD bits, TCP after truncation, retries, and hostile replies from a real socket.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConnectionError, PosternError, ProtocolError, TimeoutError } from '../../../src/core/errors.js';
import { DnsClient } from '../../../src/net/index.js';
import { type DnsServerInstance, type MalformedMode, startDnsServer } from '../../helpers/dns-server.js';
import { peerSkip } from '../../helpers/peers.js';
import { freePort } from '../../helpers/ports.js';

const skip = peerSkip('dnslib');
const HASH = 'a1'.repeat(32);
const LONG_TXT = Array.from(
  { length: 12 },
  (_, i) => `"${String(i).padStart(2, '0')}${'x'.repeat(200)}"`,
).join(' ');
const MALFORMED: MalformedMode[] = [
  'pointer-loop',
  'pointer-pair',
  'truncated-rdata',
  'count-overflow',
  'txt-overrun',
  'reserved-label',
  'name-too-long',
  'mx-target-overrun',
  'short',
];

describe('DnsClient against python3-dnslib', { skip }, () => {
  let server: DnsServerInstance;
  let dns: DnsClient;
  before(async () => {
    server = await startDnsServer({
      records: [
        'example.test. 300 IN MX 10 mx1.example.test.',
        'example.test. 300 IN MX 20 mx2.example.test.',
        'mx1.example.test. 300 IN A 127.0.0.1',
        'mx1.example.test. 300 IN AAAA ::1',
        'www.example.test. 300 IN CNAME mx1.example.test.',
        '_mta-sts.example.test. 300 IN TXT "v=STSv1; " "id=20240101"',
        `_25._tcp.mx1.example.test. 300 IN TLSA 3 1 1 ${HASH}`,
        `big.example.test. 300 IN TXT ${LONG_TXT}`,
        `cut.example.test. 300 IN TXT ${LONG_TXT}`,
        'wid.example.test. 300 IN A 192.0.2.7',
      ],
      authenticated: ['_25._tcp.mx1.example.test'],
      truncate: ['big.example.test'],
      truncateCut: ['cut.example.test'],
      rcode: { 'broken.example.test': 'SERVFAIL', 'refused.example.test': 'REFUSED' },
      hang: ['slow.example.test'],
      malformed: {
        ...Object.fromEntries(MALFORMED.map((m) => [`${m}.example.test`, m])),
        'wid.example.test': 'wrong-id-first',
        'noq.example.test': 'no-question',
      },
    });
    dns = new DnsClient({ resolver: server.address, timeout: 1000, retries: 1 });
  });
  after(async () => {
    await server?.stop();
  });

  test('MX, A, AAAA, TXT (strings kept apart), TLSA, and A through a CNAME', async () => {
    const mx = await dns.lookup('example.test', 'MX');
    assert.deepEqual(
      mx.records.map((r) => [r.preference, r.exchange]),
      [
        [10, 'mx1.example.test'],
        [20, 'mx2.example.test'],
      ],
    );
    assert.equal(mx.transport, 'udp');
    assert.deepEqual(
      (await dns.lookup('mx1.example.test', 'A')).records.map((r) => r.address),
      ['127.0.0.1'],
    );
    assert.deepEqual(
      (await dns.lookup('MX1.Example.Test.', 'AAAA')).records.map((r) => r.address),
      ['::1'],
    );
    assert.deepEqual((await dns.lookup('_mta-sts.example.test', 'TXT')).records[0]?.strings, [
      'v=STSv1; ',
      'id=20240101',
    ]);
    const tlsa = await dns.lookup('_25._tcp.mx1.example.test', 'TLSA');
    assert.deepEqual(
      tlsa.records.map((r) => [r.usage, r.selector, r.matchingType, r.data.toString('hex')]),
      [[3, 1, 1, HASH]],
    );
    assert.deepEqual(
      (await dns.lookup('www.example.test', 'A')).records.map((r) => r.address),
      ['127.0.0.1'],
    );
  });

  test('queries carry the DO bit; the AD bit of the reply is reported as it is', async () => {
    const signed = await dns.lookup('_25._tcp.mx1.example.test', 'TLSA');
    const unsigned = await dns.lookup('example.test', 'MX');
    assert.equal(signed.authenticated, true);
    assert.equal(unsigned.authenticated, false);
    await dns.lookup('do-bit.example.test', 'A');
    const [seen] = await server.waitForQueries('do-bit.example.test', 1);
    assert.equal(seen?.dnssecOk, true);
    assert.ok(server.queries().every((q) => q.dnssecOk));
  });

  test('NXDOMAIN and "no records of this type" are answers, not errors', async () => {
    const missing = await dns.lookup('nothing.example.test', 'TXT');
    assert.deepEqual([missing.nxdomain, missing.records], [true, []]);
    const noData = await dns.lookup('mx1.example.test', 'TLSA');
    assert.deepEqual([noData.nxdomain, noData.records], [false, []]);
  });

  test('a truncated UDP answer is asked again over TCP and arrives whole', async () => {
    for (const name of ['big.example.test', 'cut.example.test']) {
      const txt = await dns.lookup(name, 'TXT');
      assert.equal(txt.transport, 'tcp', name);
      assert.equal(txt.records[0]?.strings.length, 12);
      const seen = await server.waitForQueries(name, 2);
      assert.deepEqual(
        seen.map((q) => q.transport),
        ['udp', 'tcp'],
      );
    }
  });

  test('SERVFAIL and REFUSED are EDNS errors', async () => {
    for (const [name, rcode] of [
      ['broken.example.test', 'SERVFAIL'],
      ['refused.example.test', 'REFUSED'],
    ]) {
      const err = await dns.lookup(name as string, 'TLSA').catch((e) => e);
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.code, 'EDNS');
      assert.match(err.message, new RegExp(rcode as string));
      assert.equal(err.transient, true);
    }
  });

  test('hostile replies from the socket end in EPROTOCOL at once', async () => {
    for (const mode of MALFORMED) {
      const started = Date.now();
      const err = await dns.lookup(`${mode}.example.test`, 'TXT').catch((e) => e);
      assert.ok(err instanceof ProtocolError, `${mode}: ${err}`);
      assert.equal(err.code, 'EPROTOCOL');
      assert.ok(Date.now() - started < 500, `${mode} took ${Date.now() - started} ms`);
    }
  });

  test('a reply with a forged ID is skipped and the real one that follows is taken', async () => {
    const a = await dns.lookup('wid.example.test', 'A');
    assert.deepEqual(
      a.records.map((r) => r.address),
      ['192.0.2.7'],
    );
  });

  test('a silent server, or replies that answer nothing we asked: ETIMEOUT after the retries', async () => {
    for (const name of ['slow.example.test', 'noq.example.test']) {
      const quick = new DnsClient({ resolver: server.address, timeout: 150, retries: 2 });
      const started = Date.now();
      const err = await quick.lookup(name, 'A').catch((e) => e);
      assert.ok(err instanceof TimeoutError, `${name}: ${err}`);
      assert.equal(err.code, 'ETIMEOUT');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 400 && elapsed < 2000, `${name}: ${elapsed} ms`);
      // One try and two retries, all over UDP.
      const seen = await server.waitForQueries(name, 3);
      assert.deepEqual(
        seen.map((q) => q.transport),
        ['udp', 'udp', 'udp'],
        name,
      );
    }
  });

  test('an abort ends a pending query with EABORTED', async () => {
    const controller = new AbortController();
    const pending = dns.lookup('slow.example.test', 'A', controller.signal).catch((e) => e);
    setImmediate(() => controller.abort());
    const err = await pending;
    assert.ok(err instanceof PosternError);
    assert.equal(err.code, 'EABORTED');
  });

  test('nothing listening on the resolver port: ECONNREFUSED, without waiting for the timeout', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await new DnsClient({ resolver: `127.0.0.1:${port}`, timeout: 2000 })
      .lookup('x.test', 'A')
      .catch((e) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.ok(Date.now() - started < 1000);
  });
});
