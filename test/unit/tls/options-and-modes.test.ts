import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Secret } from '../../../src/core/secret.js';
import { toNodeTlsOptions } from '../../../src/tls/client-options.js';
import { ipToBytes, isIpLiteral } from '../../../src/tls/ip-literal.js';
import { defaultTlsMode, isTlsMode } from '../../../src/tls/modes.js';

describe('TLS modes', () => {
  test('port 465 is implicit TLS, everything else STARTTLS', () => {
    assert.equal(defaultTlsMode(465), 'implicit');
    assert.equal(defaultTlsMode(587), 'starttls');
    assert.equal(defaultTlsMode(25), 'starttls');
  });
  test('isTlsMode', () => {
    for (const m of ['implicit', 'starttls', 'opportunistic', 'none']) assert.equal(isTlsMode(m), true);
    for (const m of ['tls', 'ssl', '', undefined, 465]) assert.equal(isTlsMode(m), false);
  });
});

describe('toNodeTlsOptions', () => {
  test('secure defaults: verify, TLS 1.2 minimum, SNI = host', () => {
    const o = toNodeTlsOptions({}, 'mail.example.com');
    assert.equal(o.rejectUnauthorized, true);
    assert.equal(o.minVersion, 'TLSv1.2');
    assert.equal(o.servername, 'mail.example.com');
    assert.equal(o.host, 'mail.example.com');
    assert.equal(o.ciphers, undefined);
    assert.equal(o.ca, undefined);
  });

  test('no SNI for IP literals (RFC 6066 §3), but the IP is still the identity checked', () => {
    for (const ip of ['127.0.0.1', '::1', '[2001:db8::1]']) {
      const o = toNodeTlsOptions({}, ip);
      assert.equal(o.servername, undefined, ip);
      assert.equal(o.host, ip.replace(/^\[|\]$/g, ''));
    }
    const named = toNodeTlsOptions({ servername: 'mail.example.com' }, '192.0.2.1');
    assert.equal(named.servername, 'mail.example.com');
    assert.equal(named.host, 'mail.example.com');
  });

  test('insecureSkipVerify, minVersion, ca list, client certificate and passphrase', () => {
    const o = toNodeTlsOptions(
      {
        insecureSkipVerify: true,
        minVersion: 'TLSv1.3',
        ca: ['A', Buffer.from('B')],
        cert: 'C',
        key: 'K',
        passphrase: new Secret('hunter2'),
        ciphers: 'ECDHE+AESGCM',
      },
      'h.test',
    );
    assert.equal(o.rejectUnauthorized, false);
    assert.equal(o.minVersion, 'TLSv1.3');
    assert.deepEqual(o.ca, ['A', Buffer.from('B')]);
    assert.equal(o.passphrase, 'hunter2');
    assert.equal(o.ciphers, 'ECDHE+AESGCM');
  });

  test('TLS 1.0/1.1 only with allowLegacyTls, which also lowers the OpenSSL security level', () => {
    assert.throws(() => toNodeTlsOptions({ minVersion: 'TLSv1' as 'TLSv1.2' }, 'h'), {
      code: 'EINVALID_ARGUMENT',
    });
    const legacy = toNodeTlsOptions({ allowLegacyTls: true }, 'h');
    assert.equal(legacy.minVersion, 'TLSv1');
    assert.equal(legacy.ciphers, 'DEFAULT:@SECLEVEL=0');
    const legacy11 = toNodeTlsOptions({ allowLegacyTls: true, minVersion: 'TLSv1.1' as 'TLSv1.2' }, 'h');
    assert.equal(legacy11.minVersion, 'TLSv1.1');
    // allowLegacyTls with a modern minimum changes nothing
    assert.equal(toNodeTlsOptions({ allowLegacyTls: true, minVersion: 'TLSv1.2' }, 'h').ciphers, undefined);
  });

  test('bad pins and half a client certificate are input errors', () => {
    assert.throws(() => toNodeTlsOptions({ pin: 'sha256/nope' }, 'h'), { code: 'EINVALID_ARGUMENT' });
    assert.throws(() => toNodeTlsOptions({ cert: 'C' }, 'h'), { code: 'EINVALID_ARGUMENT' });
  });

  test('a Secret passphrase stays hidden in the options it came from', () => {
    const options = { passphrase: new Secret('hunter2') };
    assert.doesNotMatch(inspect(options), /hunter2/);
  });
});

describe('IP literals', () => {
  test('detection and byte form', () => {
    assert.equal(isIpLiteral('127.0.0.1'), true);
    assert.equal(isIpLiteral('256.0.0.1'), false);
    assert.equal(isIpLiteral('::1'), true);
    assert.equal(isIpLiteral('[::1]'), true);
    assert.equal(isIpLiteral('fe80::1%eth0'), false);
    assert.equal(isIpLiteral('mail.example.com'), false);
    assert.equal(isIpLiteral('dead:beef'), false);
    assert.deepEqual(ipToBytes('192.0.2.1'), Buffer.from([192, 0, 2, 1]));
    assert.equal(ipToBytes('::ffff:1.2.3.4')?.toString('hex'), '00000000000000000000ffff01020304');
    assert.equal(ipToBytes('2001:db8::1')?.toString('hex'), '20010db8000000000000000000000001');
  });
});
