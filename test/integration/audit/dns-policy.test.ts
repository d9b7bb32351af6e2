// checkDnsPolicy end to end: python3-dnslib serves the zones, a node:https server on loopback serves the
// MTA-STS policies with a certificate from the test CA, and DANE is matched against real certificate chains.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  checkDnsPolicy,
  type DnsPolicyOptions,
  resolveMtaStsEndpoint,
} from '../../../src/audit/dns/index.js';
import type { DnsPolicyResult } from '../../../src/audit/types.js';
import { createCertificate } from '../../../src/tls/certificates.js';
import { parseCertificate } from '../../../src/tls/x509-der.js';
import { testPki } from '../../helpers/certs.js';
import { type DnsServerInstance, startDnsServer } from '../../helpers/dns-server.js';
import { peerSkip } from '../../helpers/peers.js';
import { freePort } from '../../helpers/ports.js';
import { type PolicyServer, startPolicyServer } from './dns-fixtures.js';

const skip = peerSkip('dnslib');

// The policy server listens on 127.0.0.2 (still loopback): the zone's A record is the only way to find it.
const POLICY_ADDRESS = '127.0.0.2';
const DOMAINS = ['good.test', 'mismatch.test', 'badrecord.test', 'nopolicy.test', 'redirect.test', 'ta.test'];

const POLICIES: Record<string, string> = {
  'good.test': 'version: STSv1\r\nmode: enforce\r\nmx: *.good.test\r\nmax_age: 604800\r\n',
  'mismatch.test': 'version: STSv1\nmode: testing\nmx: mx1.mismatch.test\nmax_age: 86400\n',
  'badrecord.test': 'version: STSv1\nmode: enforce\nmx: mx.badrecord.test\nmax_age: 86400\n',
  'ta.test': 'version: STSv1\nmode: enforce\nmx: mx.ta.test\nmax_age: 40000000\n',
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const der = (pem: string) => new X509Certificate(pem).raw;

describe('checkDnsPolicy against python3-dnslib and an HTTPS policy server', { skip }, () => {
  let dns: DnsServerInstance;
  let https: PolicyServer;
  let options: DnsPolicyOptions;
  /** Chains the MX hosts "presented", leaf first. */
  let chains: Record<string, Buffer[]>;

  before(async () => {
    const pki = await testPki();
    const caDer = der(pki.caCert);
    const leafDer = der(pki.serverCert);
    const taLeaf = await createCertificate({
      commonName: 'mx.ta.test',
      altNames: ['mx.ta.test'],
      issuer: { cert: pki.caCert, key: pki.caKey },
    });
    chains = {
      'mx1.good.test': [leafDer, caDer],
      'mx1.mismatch.test': [leafDer, caDer],
      'mx.ta.test': [der(taLeaf.cert), caDer],
    };
    const leafSpki = sha256(parseCertificate(leafDer).spki.raw);
    https = await startPolicyServer(
      (req, res) => {
        const domain = (req.headers.host ?? '').replace(/^mta-sts\./, '');
        if (domain === 'redirect.test') {
          res.writeHead(302, { location: 'https://mta-sts.good.test/.well-known/mta-sts.txt' }).end();
          return;
        }
        const policy = POLICIES[domain];
        if (req.url !== '/.well-known/mta-sts.txt' || policy === undefined) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('no such policy\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end(policy);
      },
      DOMAINS.map((d) => `mta-sts.${d}`),
      POLICY_ADDRESS,
    );
    dns = await startDnsServer({
      records: [
        ...DOMAINS.map((d) => `mta-sts.${d}. 300 IN A ${POLICY_ADDRESS}`),
        // good.test: everything in place.
        'good.test. 300 IN MX 20 mx2.good.test.',
        'good.test. 300 IN MX 10 mx1.good.test.',
        '_mta-sts.good.test. 300 IN TXT "v=STSv1; id=20240101T000000"',
        '_mta-sts.good.test. 300 IN TXT "v=spf1 -all"',
        '_smtp._tls.good.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test," "https://reports.good.test/tlsrpt"',
        `_25._tcp.mx1.good.test. 300 IN TLSA 3 1 1 ${leafSpki}`,
        // mismatch.test: an MX the policy does not list; a TLSA record for another key.
        'mismatch.test. 300 IN MX 10 mx1.mismatch.test.',
        'mismatch.test. 300 IN MX 20 mail.elsewhere.test.',
        '_mta-sts.mismatch.test. 300 IN TXT "v=STSv1; id=1"',
        `_25._tcp.mx1.mismatch.test. 300 IN TLSA 3 1 1 ${'00'.repeat(32)}`,
        `_25._tcp.mx1.mismatch.test. 300 IN TLSA 1 1 1 ${leafSpki}`,
        `_25._tcp.mx1.mismatch.test. 300 IN TLSA 3 1 1 abcd`,
        // badrecord.test: broken MTA-STS and TLS-RPT records.
        'badrecord.test. 300 IN MX 10 mx.badrecord.test.',
        '_mta-sts.badrecord.test. 300 IN TXT "v=STSv1; id=not-alnum!"',
        '_smtp._tls.badrecord.test. 300 IN TXT "v=TLSRPTv1; rua=http://reports.badrecord.test/"',
        // nopolicy.test: a record but no policy (404), no TLS-RPT.
        'nopolicy.test. 300 IN MX 10 mx.nopolicy.test.',
        '_mta-sts.nopolicy.test. 300 IN TXT "v=STSv1; id=7"',
        // redirect.test: the policy URL redirects.
        'redirect.test. 300 IN MX 10 mx.redirect.test.',
        '_mta-sts.redirect.test. 300 IN TXT "v=STSv1; id=8"',
        // ta.test: DANE-TA matched via the CA; a max_age over a year.
        'ta.test. 300 IN MX 10 mx.ta.test.',
        '_mta-sts.ta.test. 300 IN TXT "v=STSv1; id=9"',
        `_25._tcp.mx.ta.test. 300 IN TLSA 2 0 1 ${sha256(caDer)}`,
        // hostile.test: a malformed TXT answer and a SERVFAIL for the TLSA lookup.
        'hostile.test. 300 IN MX 10 mx.hostile.test.',
        // twomx.test: two MTA-STS records.
        'twomx.test. 300 IN MX 10 mx.twomx.test.',
        '_mta-sts.twomx.test. 300 IN TXT "v=STSv1; id=1"',
        '_mta-sts.twomx.test. 300 IN TXT "v=STSv1; id=2"',
        'nomx.test. 300 IN A 192.0.2.1',
      ],
      authenticated: ['_25._tcp.mx1.good.test', '_25._tcp.mx1.mismatch.test', 'good.test'],
      malformed: { '_mta-sts.hostile.test': 'pointer-loop' },
      rcode: { '_25._tcp.mx.hostile.test': 'SERVFAIL' },
    });
    options = {
      resolver: dns.address,
      mtaStsCa: https.ca,
      // The policy host is resolved through the same resolver; only the port differs from 443.
      mtaStsConnect: async (host) => ({
        ...(await resolveMtaStsEndpoint(host.replace(/^mta-sts\./, ''), { resolver: dns.address })),
        port: https.port,
      }),
      chains,
      timeout: 1000,
    };
  });
  after(async () => {
    await dns?.stop();
    await https?.close();
  });

  const check = (domain: string, extra: Partial<DnsPolicyOptions> = {}): Promise<DnsPolicyResult> =>
    checkDnsPolicy(domain, { ...options, ...extra });

  test('valid enforce policy, TLS-RPT present, DANE-EE matching: no errors anywhere', async () => {
    const r = await check('Good.Test.');
    assert.equal(r.domain, 'good.test');
    assert.deepEqual(r.mx, [
      { preference: 10, exchange: 'mx1.good.test' },
      { preference: 20, exchange: 'mx2.good.test' },
    ]);
    assert.equal(r.mxAuthenticated, true);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.mtaSts, {
      record: 'v=STSv1; id=20240101T000000',
      id: '20240101T000000',
      policy: { mode: 'enforce', mx: ['*.good.test'], maxAge: 604800 },
      mxMatched: { 'mx1.good.test': true, 'mx2.good.test': true },
      errors: [],
    });
    assert.deepEqual(r.tlsRpt, {
      record: 'v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://reports.good.test/tlsrpt',
      rua: ['mailto:tlsrpt@good.test', 'https://reports.good.test/tlsrpt'],
      errors: [],
    });
    const [mx1, mx2] = r.dane;
    assert.equal(mx1?.mx, 'mx1.good.test');
    assert.equal(mx1?.authenticated, true);
    assert.equal(mx1?.matches, true);
    assert.deepEqual(mx1?.errors, []);
    assert.deepEqual(
      mx1?.records.map((t) => [t.usage, t.selector, t.matchingType]),
      [[3, 1, 1]],
    );
    assert.deepEqual(mx2, {
      mx: 'mx2.good.test',
      records: [],
      authenticated: false,
      matches: null,
      errors: [],
    });
    assert.ok(https.requests.includes('GET /.well-known/mta-sts.txt host=mta-sts.good.test'));
  });

  test('an MX outside the policy, and TLSA records that do not match (or cannot be used)', async () => {
    const r = await check('mismatch.test');
    assert.deepEqual(r.mtaSts.mxMatched, { 'mx1.mismatch.test': true, 'mail.elsewhere.test': false });
    assert.equal(r.mtaSts.policy?.mode, 'testing');
    assert.equal(r.mtaSts.errors.length, 1);
    assert.match(r.mtaSts.errors[0] ?? '', /MX mail\.elsewhere\.test matches no mx pattern/);
    assert.deepEqual(r.tlsRpt, { record: null, rua: [], errors: [] }, 'no TLS-RPT record is not an error');
    const dane = r.dane.find((d) => d.mx === 'mx1.mismatch.test');
    assert.equal(dane?.records.length, 3);
    assert.equal(dane?.matches, false);
    const errors = dane?.errors.join('\n') ?? '';
    assert.match(errors, /TLSA 1 1 1 .*PKIX-EE.*unusable for SMTP/);
    assert.match(errors, /TLSA 3 1 1 abcd: SHA2-256 data of 2 octets/);
    assert.match(errors, /no TLSA record matches the certificate chain/);
    // No chain for the second MX: nothing to match, no TLSA records either.
    assert.equal(r.dane.find((d) => d.mx === 'mail.elsewhere.test')?.matches, null);
  });

  test('bad record syntax: errors, and the policy is not fetched', async () => {
    const before = https.requests.length;
    const r = await check('badrecord.test');
    assert.equal(r.mtaSts.record, 'v=STSv1; id=not-alnum!');
    assert.equal(r.mtaSts.policy, null);
    assert.match(
      r.mtaSts.errors.join('\n'),
      /_mta-sts\.badrecord\.test: id "not-alnum!" is not 1 to 32 letters/,
    );
    assert.equal(https.requests.length, before, 'no HTTPS request for an invalid record');
    assert.equal(r.tlsRpt.record, 'v=TLSRPTv1; rua=http://reports.badrecord.test/');
    assert.deepEqual(r.tlsRpt.rua, []);
    assert.match(r.tlsRpt.errors.join('\n'), /http:, but RFC 8460 only defines mailto: and https:/);
  });

  test('a record without a policy (404), and a redirect that is not followed', async () => {
    const missing = await check('nopolicy.test');
    assert.equal(missing.mtaSts.id, '7');
    assert.equal(missing.mtaSts.policy, null);
    assert.match(missing.mtaSts.errors.join('\n'), /mta-sts\.txt: HTTP 404/);
    const before = https.requests.length;
    const redirect = await check('redirect.test');
    assert.equal(redirect.mtaSts.policy, null);
    assert.match(redirect.mtaSts.errors.join('\n'), /HTTP 302 redirect; RFC 8461 §3\.3 forbids following/);
    assert.deepEqual(https.requests.slice(before), [
      'GET /.well-known/mta-sts.txt host=mta-sts.redirect.test',
    ]);
  });

  test('DANE-TA matched through the CA; an invalid policy (max_age over a year) is reported', async () => {
    const r = await check('ta.test');
    assert.equal(r.dane[0]?.matches, true);
    assert.equal(r.dane[0]?.authenticated, false);
    assert.match(r.dane[0]?.errors.join('\n') ?? '', /not DNSSEC-validated/);
    assert.equal(r.mtaSts.policy, null);
    assert.match(r.mtaSts.errors.join('\n'), /max_age 40000000 exceeds the maximum/);
    // Without a chain for the MX there is nothing to match.
    const unmatched = await check('ta.test', { chains: {} });
    assert.equal(unmatched.dane[0]?.matches, null);
  });

  test('the policy certificate is checked: without --mta-sts-ca it is untrusted', async () => {
    const r = await check('good.test', { mtaStsCa: undefined });
    assert.equal(r.mtaSts.policy, null);
    assert.match(r.mtaSts.errors.join('\n'), /ETLS_CERT_UNTRUSTED/);
  });

  test('hostile answers, SERVFAIL, two MTA-STS records, no MX: error strings, never a throw', async () => {
    const hostile = await check('hostile.test');
    assert.match(
      hostile.mtaSts.errors.join('\n'),
      /_mta-sts\.hostile\.test TXT: malformed DNS reply.*EPROTOCOL/,
    );
    assert.match(hostile.dane[0]?.errors.join('\n') ?? '', /SERVFAIL.*EDNS/);
    assert.equal(hostile.dane[0]?.matches, null);
    const two = await check('twomx.test');
    assert.match(two.mtaSts.errors.join('\n'), /2 records start with v=STSv1/);
    assert.equal(two.mtaSts.policy, null);
    const nomx = await check('nomx.test');
    assert.deepEqual(nomx.mx, []);
    assert.deepEqual(nomx.dane, []);
    assert.match(nomx.errors?.join('\n') ?? '', /no MX records/);
  });

  test('an unreachable resolver or a bad resolver address: every part says so, quickly', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await checkDnsPolicy('good.test', { resolver: `127.0.0.1:${port}`, timeout: 500 });
    assert.ok(Date.now() - started < 2000);
    assert.match(r.errors?.join('\n') ?? '', /ECONNREFUSED/);
    assert.match(r.mtaSts.errors.join('\n'), /ECONNREFUSED/);
    assert.match(r.tlsRpt.errors.join('\n'), /ECONNREFUSED/);
    const bad = await checkDnsPolicy('good.test', { resolver: 'dns.example:53' });
    assert.match(bad.errors?.join('\n') ?? '', /not a DNS server address/);
  });

  test('the default endpoint: the policy host resolved through the resolver, port 443', async () => {
    assert.deepEqual(await resolveMtaStsEndpoint('good.test', { resolver: dns.address }), {
      host: POLICY_ADDRESS,
      port: 443,
    });
    await assert.rejects(resolveMtaStsEndpoint('nomx.test', { resolver: dns.address }), { code: 'EDNS' });
  });
});
