import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import {
  domainToAscii,
  toWireAddress,
  validateMailbox,
  validateReversePath,
} from '../../../src/protocol/address.js';

function rejects(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
    assert.equal(e.code, code);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

describe('validateMailbox', () => {
  const valid = [
    'user@example.com',
    'first.last@sub.example.co.uk',
    "o'hara+tag=x!#$%&*/?^_`{|}~-@example.com",
    'a@b',
    'user@localhost',
    'user@[192.0.2.1]',
    'user@[IPv6:2001:db8::1]',
    'user@[ipv6:2001:db8:0:0:0:0:0:1]',
    'user@[IPv6:::1]',
    'user@[IPv6:::ffff:192.0.2.1]',
    'user@[IPv6:2001:db8::192.0.2.1]',
    '"john doe"@example.com',
    '"a@b"@example.com',
    '"quote\\"inside"@example.com',
    '""@example.com',
    'x@xn--bcher-kva.example',
    'x@bücher.example',
    'x@例え.テスト',
    'UPPER@EXAMPLE.COM',
    `${'a'.repeat(64)}@example.com`,
    'user@123.example',
  ];
  for (const address of valid) {
    test(`accepts ${address}`, () => validateMailbox(address));
  }

  const invalid: [string, RegExp][] = [
    ['', /no "@"/],
    ['userexample.com', /no "@"/],
    ['@example.com', /empty/],
    ['user@', /domain/],
    ['.user@example.com', /empty atom/],
    ['user.@example.com', /empty atom/],
    ['us..er@example.com', /empty atom/],
    ['us er@example.com', /not allowed/],
    ['user(comment)@example.com', /not allowed/],
    ['us"er@example.com', /not allowed/],
    ['"unclosed@example.com', /quoted/],
    ['"bad\\\x01"@example.com', /quoted/],
    ['"tab\there"@example.com', /quoted/],
    ['user@exa_mple.com', /label/],
    ['user@-example.com', /label/],
    ['user@example-.com', /label/],
    ['user@example..com', /empty label/],
    ['user@example.com.', /empty label/],
    ['user@.example.com', /empty label/],
    [`user@${'a'.repeat(64)}.com`, /label/],
    ['user@xn--zz.com', /internationalized/],
    ['user@[192.0.2.256]', /0–255/],
    ['user@[192.0.2]', /four numbers/],
    ['user@[192.0.2.1', /brackets/],
    ['user@[IPv6:2001:db8::1::2]', /one "::"/],
    ['user@[IPv6:1:2:3:4:5:6:7]', /number of IPv6 groups/],
    ['user@[IPv6:1:2:3:4:5:6:7:8:9]', /number of IPv6 groups/],
    ['user@[IPv6:1:2:3:4:5:6:7::]', /number of IPv6 groups/],
    ['user@[IPv6:12345::]', /IPv6 group/],
    ['user@[IPv6:g::1]', /IPv6 group/],
    ['user@[tag:whatever]', /four numbers/],
    [`${'a'.repeat(65)}@example.com`, /64 octets/],
    [
      `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(60)}`,
      /254 octets/,
    ],
    ['user@example.com\r\nRCPT TO:<x@y>', /not allowed|label/],
  ];
  for (const [address, why] of invalid) {
    test(`rejects ${JSON.stringify(address)}`, () =>
      rejects(() => validateMailbox(address), 'EADDRESS_INVALID', why));
  }

  test('a decorated address gets a hint', () => {
    rejects(() => validateMailbox('Alice <alice@example.com>'), 'EADDRESS_INVALID', /bare address/);
    rejects(() => validateMailbox('<alice@example.com>'), 'EADDRESS_INVALID', /bare address/);
  });

  test('the address is quoted safely in the message', () => {
    rejects(() => validateMailbox('x\x1b[2J'), 'EADDRESS_INVALID', /"x\\x1b\[2J"/);
  });

  test('a UTF-8 local part needs SMTPUTF8 (RFC 6531)', () => {
    rejects(() => validateMailbox('jörg@example.com'), 'ESMTPUTF8_REQUIRED', /SMTPUTF8/);
    rejects(() => validateMailbox('"jörg x"@example.com'), 'ESMTPUTF8_REQUIRED');
    validateMailbox('jörg@example.com', { smtpUtf8: true });
    validateMailbox('用户@例子.广告', { smtpUtf8: true });
    validateMailbox('"jörg x"@example.com', { smtpUtf8: true });
  });

  test('syntax errors win over the SMTPUTF8 check', () => {
    rejects(() => validateMailbox('jö..rg@example.com'), 'EADDRESS_INVALID');
  });

  test('C1 controls and broken UTF-16 are never valid', () => {
    rejects(() => validateMailbox('a\u0085b@example.com', { smtpUtf8: true }), 'EADDRESS_INVALID');
    rejects(() => validateMailbox('a\ud800b@example.com', { smtpUtf8: true }), 'EADDRESS_INVALID', /UTF-16/);
  });

  test('the local part limit counts octets', () => {
    rejects(
      () => validateMailbox(`${'ü'.repeat(33)}@example.com`, { smtpUtf8: true }),
      'EADDRESS_INVALID',
      /64 octets/,
    );
    validateMailbox(`${'ü'.repeat(32)}@example.com`, { smtpUtf8: true });
  });

  test('length limits apply to the form that is sent: A-labels without SMTPUTF8', () => {
    const label = `${'a'.repeat(50)}ü`; // 52 octets as UTF-8, 58 as an A-label
    const domain = [label, label, label, label, 'de'].join('.');
    const address = `${'a'.repeat(30)}@${domain}`;
    validateMailbox(address, { smtpUtf8: true });
    rejects(() => validateMailbox(address), 'EADDRESS_INVALID', /254 octets/);
  });
});

describe('validateReversePath', () => {
  test('accepts the null path and mailboxes', () => {
    validateReversePath('');
    validateReversePath('bounce@example.com');
    validateReversePath('jörg@example.com', { smtpUtf8: true });
  });

  test('rejects what validateMailbox rejects', () => {
    rejects(() => validateReversePath('<>'), 'EADDRESS_INVALID');
    rejects(() => validateReversePath('jörg@example.com'), 'ESMTPUTF8_REQUIRED');
  });
});

describe('toWireAddress', () => {
  test('ASCII stays as it is', () => {
    assert.deepEqual(toWireAddress('User@Example.COM', { smtpUtf8: false }), {
      address: 'User@Example.COM',
      needsSmtpUtf8: false,
    });
    assert.deepEqual(toWireAddress('User@Example.COM', { smtpUtf8: true }), {
      address: 'User@Example.COM',
      needsSmtpUtf8: false,
    });
  });

  test('without SMTPUTF8 an IDN domain becomes A-labels', () => {
    assert.deepEqual(toWireAddress('info@bücher.example', { smtpUtf8: false }), {
      address: 'info@xn--bcher-kva.example',
      needsSmtpUtf8: false,
    });
    assert.deepEqual(toWireAddress('info@例え.テスト', { smtpUtf8: false }), {
      address: 'info@xn--r8jz45g.xn--zckzah',
      needsSmtpUtf8: false,
    });
  });

  test('with SMTPUTF8 UTF-8 is kept and reported', () => {
    assert.deepEqual(toWireAddress('info@bücher.example', { smtpUtf8: true }), {
      address: 'info@bücher.example',
      needsSmtpUtf8: true,
    });
    assert.deepEqual(toWireAddress('jörg@bücher.example', { smtpUtf8: true }), {
      address: 'jörg@bücher.example',
      needsSmtpUtf8: true,
    });
  });

  test('a UTF-8 local part without SMTPUTF8 cannot be converted', () => {
    rejects(() => toWireAddress('jörg@example.com', { smtpUtf8: false }), 'ESMTPUTF8_REQUIRED');
  });

  test('address literals are kept', () => {
    assert.equal(toWireAddress('a@[IPv6:2001:db8::1]', { smtpUtf8: false }).address, 'a@[IPv6:2001:db8::1]');
  });

  test('invalid and empty addresses are refused', () => {
    rejects(() => toWireAddress('', { smtpUtf8: false }), 'EADDRESS_INVALID');
    rejects(() => toWireAddress('a@b@', { smtpUtf8: false }), 'EADDRESS_INVALID');
  });
});

describe('domainToAscii', () => {
  test('converts IDNs and keeps ASCII names as written', () => {
    assert.equal(domainToAscii('bücher.example'), 'xn--bcher-kva.example');
    assert.equal(domainToAscii('Mail.Example.COM'), 'Mail.Example.COM');
    assert.equal(domainToAscii('ＥＸＡＭＰＬＥ.com'), 'example.com');
    assert.equal(domainToAscii('xn--bcher-kva.example'), 'xn--bcher-kva.example');
  });

  test('rejects what is not a domain name', () => {
    for (const bad of [
      '',
      'a b.com',
      'exa_mple.com',
      'a..b',
      'foo.',
      '-x.com',
      'xn--zz.com',
      '[192.0.2.1]',
      '\u200d.com',
    ]) {
      rejects(() => domainToAscii(bad), 'EADDRESS_INVALID');
    }
  });

  test('rejects a domain over 255 octets', () => {
    const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    rejects(() => domainToAscii(long), 'EADDRESS_INVALID', /255/);
  });
});
