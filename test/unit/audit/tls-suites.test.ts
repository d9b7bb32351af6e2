// The cipher-suite registry: names derived into properties, and names checked against OpenSSL's and
// testssl.sh's own tables (peers nobody here wrote).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  LEGACY_SUITES,
  parseSuiteName,
  SSL2_CIPHER_KINDS,
  ssl2KindByCode,
  suiteByCode,
  suiteByName,
  TLS13_SUITES,
} from '../../../src/audit/tls/suites.js';
import { peerSkip } from '../../helpers/peers.js';

describe('cipher-suite registry', () => {
  test('holds the whole IANA list, TLS 1.3 suites apart, and the SSLv2 kinds', () => {
    assert.ok(LEGACY_SUITES.length >= 350, `only ${LEGACY_SUITES.length} suites`);
    assert.deepEqual(
      TLS13_SUITES.map((s) => s.code)
        .filter((c) => c.startsWith('13'))
        .sort(),
      ['1301', '1302', '1303', '1304', '1305', '1306', '1307'],
    );
    const codes = [...LEGACY_SUITES, ...TLS13_SUITES].map((s) => s.code);
    assert.equal(new Set(codes).size, codes.length, 'duplicate codes');
    for (const s of [...LEGACY_SUITES, ...TLS13_SUITES]) assert.match(s.code, /^[0-9a-f]{4}$/);
    assert.ok(SSL2_CIPHER_KINDS.every((s) => /^[0-9a-f]{6}$/.test(s.code)));
    // Classes the issue names, each present.
    for (const re of [
      /EXPORT/,
      /anon/,
      /NULL/,
      /_DES_/,
      /RC4/,
      /IDEA/,
      /3DES/,
      /CAMELLIA/,
      /ARIA/,
      /SEED/,
      /PSK/,
    ]) {
      assert.ok(
        LEGACY_SUITES.some((s) => re.test(s.name)),
        `no suite matching ${re}`,
      );
    }
    assert.ok(LEGACY_SUITES.some((s) => s.name.endsWith('_CCM')));
    assert.ok(LEGACY_SUITES.some((s) => s.name.includes('CHACHA20')));
    assert.ok(LEGACY_SUITES.some((s) => s.name.includes('GOST')));
  });

  test('derives properties from the name', () => {
    assert.deepEqual(suiteByCode(0xc02f), {
      name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      openssl: 'ECDHE-RSA-AES128-GCM-SHA256',
      code: 'c02f',
      kx: 'ECDHE',
      auth: 'RSA',
      encryption: 'AES-128-GCM',
      bits: 128,
      mac: 'AEAD',
      aead: true,
      forwardSecrecy: true,
      weaknesses: [],
    });
    const rc4export = suiteByCode(0x0003);
    assert.equal(rc4export.name, 'TLS_RSA_EXPORT_WITH_RC4_40_MD5');
    assert.equal(rc4export.bits, 40);
    assert.deepEqual(rc4export.weaknesses, ['EXPORT', 'RC4', 'MD5', 'static-RSA']);
    const adh = suiteByName('TLS_DH_anon_WITH_AES_256_CBC_SHA');
    assert.equal(adh?.auth, 'anon');
    assert.equal(adh?.forwardSecrecy, false);
    assert.deepEqual(adh?.weaknesses, ['anon', 'CBC']);
    const tdes = suiteByCode(0x000a);
    assert.equal(tdes.bits, 112);
    assert.equal(tdes.mac, 'SHA1');
    assert.deepEqual(tdes.weaknesses, ['3DES', 'CBC', 'static-RSA']);
    const ccm8 = suiteByName('TLS_PSK_DHE_WITH_AES_128_CCM_8');
    assert.equal(ccm8?.code, 'c0aa');
    assert.equal(ccm8?.kx, 'DHE-PSK');
    assert.equal(ccm8?.encryption, 'AES-128-CCM-8');
    assert.equal(suiteByCode(0x0000).name, 'TLS_NULL_WITH_NULL_NULL');
    assert.deepEqual(suiteByCode(0x0000).weaknesses, ['NULL', 'anon']);
    assert.equal(suiteByCode(0xc030).openssl, 'ECDHE-RSA-AES256-GCM-SHA384');
    const static_ = suiteByCode(0xc004);
    assert.equal(static_.kx, 'ECDH');
    assert.deepEqual(static_.weaknesses, ['CBC', 'static-DH']);
  });

  test('TLS 1.3 suites: any key exchange, forward secret, AEAD (integrity-only suites are NULL)', () => {
    const aes = suiteByCode(0x1301);
    assert.equal(aes.name, 'TLS_AES_128_GCM_SHA256');
    assert.equal(aes.kx, 'any');
    assert.equal(aes.auth, 'any');
    assert.equal(aes.forwardSecrecy, true);
    assert.equal(aes.aead, true);
    const integrityOnly = suiteByName('TLS_SHA256_SHA256');
    assert.ok(integrityOnly && TLS13_SUITES.includes(integrityOnly));
    assert.deepEqual(integrityOnly.weaknesses, ['NULL']);
    assert.ok(TLS13_SUITES.some((s) => s.name === 'TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L'));
    assert.ok(!LEGACY_SUITES.some((s) => s.name === 'TLS_AES_128_GCM_SHA256'));
  });

  test('SSLv2 kinds', () => {
    const exp = ssl2KindByCode(0x020080);
    assert.equal(exp.name, 'SSL_CK_RC4_128_EXPORT40_WITH_MD5');
    assert.equal(exp.bits, 40);
    assert.deepEqual(exp.weaknesses, ['EXPORT', 'RC4', 'MD5', 'static-RSA']);
    assert.equal(ssl2KindByCode(0x0700c0).encryption, '3DES-EDE-CBC');
    assert.equal(ssl2KindByCode(0x123456).name, 'UNKNOWN_0x123456');
  });

  test('unknown codes and names', () => {
    assert.equal(suiteByCode(0x0a0a).name, 'UNKNOWN_0x0a0a');
    assert.equal(suiteByName('TLS_NOT_A_SUITE'), undefined);
    assert.equal(parseSuiteName('TLS_FOO_WITH_AES_128_GCM_SHA256'), undefined);
    assert.equal(parseSuiteName('TLS_RSA_WITH_ROT13_SHA'), undefined);
    assert.equal(parseSuiteName('garbage'), undefined);
  });

  test('offer order: strongest first', () => {
    const first = LEGACY_SUITES[0];
    assert.ok(first?.forwardSecrecy && first.aead && first.weaknesses.length === 0);
    const index = (name: string) => LEGACY_SUITES.findIndex((s) => s.name === name);
    assert.ok(index('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256') < index('TLS_RSA_WITH_AES_128_GCM_SHA256'));
    assert.ok(index('TLS_RSA_WITH_AES_128_CBC_SHA') < index('TLS_RSA_WITH_RC4_128_SHA'));
    assert.ok(index('TLS_RSA_WITH_RC4_128_SHA') < index('TLS_RSA_EXPORT_WITH_RC4_40_MD5'));
  });

  test('names and codes agree with OpenSSL', { skip: peerSkip('openssl') }, () => {
    const out = execFileSync('openssl', ['ciphers', '-V', '-stdname', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], {
      encoding: 'utf8',
    });
    let checked = 0;
    for (const line of out.split('\n')) {
      const m = /^\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+- (\S+)/.exec(line);
      if (!m) continue;
      const suite = suiteByCode(Number.parseInt(`${m[1]}${m[2]}`, 16));
      assert.equal(suite.name, m[3], `IANA name of 0x${m[1]}${m[2]}`);
      if (!suite.name.startsWith('TLS_') || suite.name.includes('_WITH_')) {
        assert.equal(suite.openssl, m[4], `OpenSSL name of ${suite.name}`);
      }
      checked++;
    }
    assert.ok(checked > 100, `only ${checked} suites compared`);
  });

  test('IANA names agree with testssl.sh --mapping iana', { skip: peerSkip('testssl') }, () => {
    const mapping = readFileSync('/etc/testssl/cipher-mapping.txt', 'utf8');
    const disagreements: string[] = [];
    let checked = 0;
    for (const line of mapping.split('\n')) {
      const m = /^\s*0x([0-9A-F]{2}),0x([0-9A-F]{2})(?:,0x([0-9A-F]{2}))? - (\S+)\s+(\S+)/.exec(line);
      if (!m) continue;
      const code = Number.parseInt(`${m[1]}${m[2]}${m[3] ?? ''}`, 16);
      const ours = m[3] ? ssl2KindByCode(code) : suiteByCode(code);
      const [openssl, iana] = [m[4], m[5]];
      if (iana !== '-' && ours.name !== iana) disagreements.push(`${ours.code}: ${ours.name} vs ${iana}`);
      if (openssl !== '-' && ours.openssl !== openssl)
        disagreements.push(`${ours.code}: ${ours.openssl} vs ${openssl}`);
      checked++;
    }
    assert.deepEqual(disagreements, []);
    assert.ok(checked > 350, `only ${checked} suites compared`);
  });
});
