// Mozilla server-side TLS profile compliance (guidelines 5.7) for fixture scans.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkProfile, normaliseGroup } from '../../../src/audit/profiles.js';
import { buildReport } from '../../../src/audit/report.js';
import { certCheck, parts, STRONG_12, STRONG_13, tlsScan } from './report-fixtures.js';

const ecdsa90 = certCheck({}, { validFrom: '2025-05-02T00:00:00.000Z', validTo: '2025-07-31T00:00:00.000Z' });
const rsa2048 = certCheck(
  {},
  { keyType: 'rsa', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption' },
);
const OLD_12 = [
  ...STRONG_12,
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA',
  'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
];

function items(name: 'modern' | 'intermediate' | 'old', tls = tlsScan(), cert = ecdsa90) {
  const result = checkProfile(name, { tls, certificate: cert });
  return { result, items: result.deviations.map((d) => `${d.level}:${d.category}:${d.item}`) };
}

describe('Mozilla profiles', () => {
  test('a TLS 1.3-only server with an ECDSA P-256 90-day certificate is modern-compliant', () => {
    const { result, items: got } = items('modern', tlsScan({ 'TLSv1.3': STRONG_13 }));
    assert.equal(result.guidelines, '5.7');
    assert.equal(result.compliant, true);
    assert.deepEqual(got, ['recommended:ocsp:OCSP stapling']);
  });

  test('TLS 1.2 with ECDHE suites is intermediate-compliant but not modern', () => {
    assert.equal(items('intermediate').result.compliant, true);
    const modern = items('modern');
    assert.equal(modern.result.compliant, false);
    assert.ok(modern.items.includes('required:protocol:TLSv1.2'));
    assert.ok(modern.items.includes('required:cipher:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'));
    // Server preference with only strong suites is a recommendation, not a requirement.
    assert.ok(modern.items.includes('recommended:preference:server order'));
  });

  test('an RSA certificate is fine for intermediate and old, not for modern', () => {
    assert.equal(items('intermediate', tlsScan(), rsa2048).result.compliant, true);
    const modern = items('modern', tlsScan({ 'TLSv1.3': STRONG_13 }), rsa2048);
    assert.ok(modern.items.includes('required:certificate:RSA 2048'));
    const small = items('intermediate', tlsScan(), certCheck({}, { keyType: 'rsa', keyBits: 1024 }));
    assert.ok(small.items.includes('required:certificate:RSA 1024'));
    const oldWithEc = items('old', tlsScan(), ecdsa90);
    assert.ok(oldWithEc.items.includes('required:certificate:EC 256'));
  });

  test('a legacy server (TLS 1.0, CBC, 3DES, static RSA) deviates from intermediate but fits old', () => {
    const tls = tlsScan({ 'TLSv1.0': OLD_12.slice(3), 'TLSv1.2': OLD_12, 'TLSv1.3': STRONG_13 });
    const inter = items('intermediate', tls, rsa2048);
    assert.equal(inter.result.compliant, false);
    for (const expected of [
      'required:protocol:TLSv1.0',
      'required:cipher:TLS_RSA_WITH_3DES_EDE_CBC_SHA',
      'required:cipher:TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
    ]) {
      assert.ok(inter.items.includes(expected), `${expected} in ${inter.items.join(', ')}`);
    }
    const old = items('old', tls, rsa2048);
    assert.equal(old.result.compliant, true, old.items.join(', '));
  });

  test('old wants the server to choose; ffdhe groups, DH sizes and PQ hybrids are judged per profile', () => {
    const clientOrder = tlsScan(
      { 'TLSv1.2': OLD_12 },
      {
        serverPreference: {
          SSLv2: null,
          SSLv3: null,
          'TLSv1.0': null,
          'TLSv1.1': null,
          'TLSv1.2': false,
          'TLSv1.3': null,
        },
        groups: [
          'X25519MLKEM768',
          'x25519',
          'prime256v1',
          'ffdhe2048',
          'ffdhe1024',
          'secp521r1',
          'secp192r1',
        ],
        dhBits: [1024],
      },
    );
    const old = items('old', clientOrder, rsa2048);
    assert.ok(old.items.includes('required:preference:client order'));
    assert.ok(old.items.includes('recommended:group:secp521r1'), 'a stronger curve is no weakness');
    assert.ok(old.items.includes('required:group:secp192r1'));
    assert.ok(
      !old.items.some((i) => i.includes('MLKEM') || i.includes('prime256v1') || i.includes('ffdhe2048')),
    );
    const inter = items('intermediate', clientOrder, rsa2048);
    assert.ok(inter.items.includes('required:group:ffdhe1024'));
    assert.ok(inter.items.includes('required:dh:DH 1024'));
    assert.equal(normaliseGroup('P-256'), 'secp256r1');
  });

  test('certificate lifetime: over 366 days is required, over 90 recommended (modern: 90 maximum)', () => {
    const year = certCheck(
      {},
      { validFrom: '2025-01-01T00:00:00.000Z', validTo: '2026-01-01T00:00:00.000Z' },
    );
    assert.ok(items('intermediate', tlsScan(), year).items.includes('recommended:certificate:365 days'));
    assert.ok(
      items('modern', tlsScan({ 'TLSv1.3': STRONG_13 }), year).items.includes(
        'required:certificate:365 days',
      ),
    );
    const long = certCheck(
      {},
      { validFrom: '2025-01-01T00:00:00.000Z', validTo: '2027-01-01T00:00:00.000Z' },
    );
    assert.ok(items('intermediate', tlsScan(), long).items.includes('required:certificate:730 days'));
  });

  test('no TLS scan means no verdict; --profile puts the compliance in the report', () => {
    assert.equal(checkProfile('intermediate', { tls: null, certificate: null }).compliant, false);
    const report = buildReport(parts({ profile: 'intermediate' }));
    assert.equal(report.profile?.profile, 'intermediate');
    assert.equal(report.profile?.compliant, true);
    assert.equal(buildReport(parts()).profile, undefined);
  });
});
