import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../../../src/core/errors.js';
import { formatOrcpt } from '../../../src/protocol/orcpt.js';
import { decodeXtext, encodeXtext } from '../../../src/protocol/xtext.js';

describe('xtext (RFC 3461 §4)', () => {
  test('leaves "!".."~" alone except "+" and "="', () => {
    assert.equal(encodeXtext('user@example.com'), 'user@example.com');
    assert.equal(encodeXtext('!~'), '!~');
    assert.equal(encodeXtext(''), '');
  });

  test('encodes "+", "=", space, controls and 8-bit octets as uppercase +HH', () => {
    assert.equal(encodeXtext('a+b=c d'), 'a+2Bb+3Dc+20d');
    assert.equal(encodeXtext('\x00\x1f\x7f'), '+00+1F+7F');
    assert.equal(encodeXtext('é'), '+C3+A9');
    assert.equal(encodeXtext('😀'), '+F0+9F+98+80');
  });

  test('decodes, also lowercase hex and a bare "="', () => {
    assert.equal(decodeXtext('a+2Bb+3Dc+20d'), 'a+b=c d');
    assert.equal(decodeXtext('+c3+a9'), 'é');
    assert.equal(decodeXtext('a=b'), 'a=b');
    assert.equal(decodeXtext(''), '');
  });

  test('rejects broken xtext', () => {
    for (const bad of ['+', '+4', '+4G', 'a b', 'a\r\nb', 'é', '+ZZ']) {
      assert.throws(
        () => decodeXtext(bad),
        (e: unknown) => e instanceof InputError && e.code === 'EINVALID_ARGUMENT',
        JSON.stringify(bad),
      );
    }
  });

  test('(e) round-trips any text, and the encoding is plain xtext', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const encoded = encodeXtext(text);
        assert.match(encoded, /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/);
        assert.equal(decodeXtext(encoded), text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('formatOrcpt', () => {
  test('ASCII addresses use rfc822 and xtext', () => {
    assert.equal(formatOrcpt('bob@example.org', false), 'rfc822;bob@example.org');
    assert.equal(formatOrcpt('bob+tag@example.org', true), 'rfc822;bob+2Btag@example.org');
  });

  test('non-ASCII without SMTPUTF8: utf-8-addr-xtext, 7-bit (RFC 6533 §3)', () => {
    assert.equal(formatOrcpt('jörg@example.com', false), 'utf-8;j\\x{F6}rg@example.com');
    assert.equal(
      formatOrcpt('用户@例子.广告', false),
      'utf-8;\\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.\\x{5E7F}\\x{544A}',
    );
    assert.equal(formatOrcpt('a😀+b@x', false), 'utf-8;a\\x{1F600}\\x{2B}b@x');
  });

  test('non-ASCII with SMTPUTF8: utf-8-addr-unitext keeps UTF-8, escapes "+", "=", "\\" and space', () => {
    assert.equal(formatOrcpt('jörg@example.com', true), 'utf-8;jörg@example.com');
    assert.equal(formatOrcpt('"j ö=\\"@x', true), 'utf-8;"j\\x{20}ö\\x{3D}\\x{5C}"@x');
  });

  test('the value never contains a raw "+", "=", space or control character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), fc.boolean(), (address, utf8) => {
        const value = formatOrcpt(address, utf8);
        const [, encoded = ''] = /^(?:rfc822|utf-8);(.*)$/su.exec(value) ?? [];
        assert.doesNotMatch(encoded, /[\x00-\x20\x7f=]/);
        if (value.startsWith('utf-8;')) assert.doesNotMatch(encoded, /\+/);
        if (!utf8) assert.doesNotMatch(value, /[^\x21-\x7e]/);
      }),
      { numRuns: 500 },
    );
  });
});
