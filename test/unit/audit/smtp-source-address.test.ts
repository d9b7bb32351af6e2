// Where the relay test connected from: loopback, private or public, for IPv4, IPv6 and the mapped forms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressClass } from '../../../src/audit/smtp/index.js';

test('loopback: 127.0.0.0/8 and ::1, in every spelling', () => {
  for (const a of [
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
  ])
    assert.equal(addressClass(a), 'loopback', a);
});

test('private: RFC 1918, shared, link-local, unique local, unspecified, and their mapped forms', () => {
  for (const a of [
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.10',
    '100.64.0.1',
    '169.254.10.20',
    '0.0.0.0',
    'fd12:3456::1',
    'fc00::1',
    'fe80::1%eth0',
    '::',
    '::ffff:10.1.2.3',
    '::ffff:192.168.0.1',
  ])
    assert.equal(addressClass(a), 'private', a);
});

test('public: everything else', () => {
  for (const a of [
    '8.8.8.8',
    '172.15.0.1',
    '172.32.0.1',
    '100.128.0.1',
    '192.169.0.1',
    '2001:db8::25',
    '2a00:1450:4001:81c::200e',
    '::ffff:203.0.113.9',
    '128.0.0.1',
  ])
    assert.equal(addressClass(a), 'public', a);
});

test('not an IP address: undefined', () => {
  for (const a of [
    '',
    'localhost',
    '1.2.3',
    '1.2.3.256',
    '1:2:3',
    '1::2::3',
    '1.2.3.4::',
    'g::1',
    '1:2:3:4:5:6:7:8:9',
  ])
    assert.equal(addressClass(a), undefined, a);
});
