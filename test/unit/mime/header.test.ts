import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../../../src/core/errors.js';
import { checkFieldName, FieldWriter, preparedField, unstructuredField } from '../../../src/mime/header.js';

const ascii = { smtpUtf8: false };
const utf8 = { smtpUtf8: true };

function lines(field: string): string[] {
  assert.ok(field.endsWith('\r\n'));
  return field.slice(0, -2).split('\r\n');
}

describe('unstructuredField', () => {
  test('writes plain ASCII as it is', () => {
    assert.equal(unstructuredField('Subject', 'Hello world', ascii), 'Subject: Hello world\r\n');
  });

  test('folds before whitespace at 78 characters, losslessly', () => {
    const value = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const field = unstructuredField('Subject', value, ascii);
    for (const line of lines(field)) assert.ok(line.length <= 78, line);
    assert.equal(field.replace(/\r\n(?=[ \t])/g, ''), `Subject: ${value}\r\n`);
  });

  test('encodes only the words that need it, with the spaces between them inside', () => {
    assert.equal(
      unstructuredField('Subject', 'Report 测试 报告 done', ascii),
      'Subject: Report =?utf-8?B?5rWL6K+VIOaKpeWRig==?= done\r\n',
    );
  });

  test('a Chinese subject becomes encoded words of at most 75 characters on 78-character lines', () => {
    const field = unstructuredField(
      'Subject',
      '关于二〇二六年第一季度财务报告的测试与审计意见以及后续工作安排的通知',
      ascii,
    );
    for (const line of lines(field)) assert.ok(line.length <= 78, line);
    for (const word of field.match(/=\?[^?]+\?[BQ]\?[^?]*\?=/g) ?? []) assert.ok(word.length <= 75);
    assert.match(field, /^Subject: =\?utf-8\?B\?/);
  });

  test('encodes text that looks like an encoded word, so it shows as written', () => {
    assert.equal(
      unstructuredField('Subject', 'see =?utf-8?Q?x?= here', ascii),
      'Subject: see =?utf-8?B?PT91dGYtOD9RP3g/PQ==?= here\r\n',
    );
  });

  test('a word longer than any line is encoded (and so split) instead of passing 998 octets', () => {
    const field = unstructuredField('Subject', 'x'.repeat(2000), ascii);
    for (const line of lines(field)) assert.ok(line.length <= 78, `${line.length}`);
  });

  test('a long unbreakable word stays raw when it fits in 998 octets', () => {
    const word = 'y'.repeat(120);
    assert.equal(unstructuredField('X-Token', word, ascii), `X-Token: ${word}\r\n`);
  });

  test('keeps UTF-8 raw under SMTPUTF8 (RFC 6532) but still encodes controls', () => {
    assert.equal(unstructuredField('Subject', '测试 ok', utf8), 'Subject: 测试 ok\r\n');
    assert.equal(unstructuredField('Subject', 'a\tb\x01c', utf8), 'Subject: a\t=?utf-8?B?YgFj?=\r\n');
  });

  test('drops leading and trailing whitespace, keeps inner whitespace', () => {
    assert.equal(unstructuredField('Subject', '  a  \t b  ', ascii), 'Subject: a  \t b\r\n');
  });

  test('refuses CR, LF, NUL and Unicode line separators (header injection)', () => {
    for (const value of ['a\r\nBcc: x@y', 'a\nb', 'a\rb', 'a\0b', 'a\u2028b']) {
      assert.throws(
        () => unstructuredField('Subject', value, ascii),
        (e: unknown) => e instanceof InputError && e.code === 'ECOMMAND_INJECTION',
      );
    }
  });

  test('every line ≤ 78 where foldable, words ≤ 75, round trip of the raw text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (raw) => {
        const value = raw.replace(/[\r\n\0\u2028\u2029]/g, ' ');
        const field = unstructuredField('Subject', value, ascii);
        assert.ok(/^[\x00-\x7f]*$/.test(field), 'ASCII only');
        for (const line of lines(field)) assert.ok(line.length <= 78, line);
      }),
    );
  });
});

describe('FieldWriter', () => {
  test('never folds straight after the name', () => {
    const field = new FieldWriter('X-Long');
    field.add(' ', 'z'.repeat(100));
    assert.equal(field.toString(), `X-Long: ${'z'.repeat(100)}\r\n`);
  });

  test('refuses a line over 998 octets', () => {
    const field = new FieldWriter('X-Long');
    field.add(' ', 'z'.repeat(1000));
    assert.throws(() => field.toString(), /longer than 998/);
  });
});

describe('checkFieldName', () => {
  test('accepts ftext names', () => {
    for (const name of ['X-Mailer', 'X-Campaign_ID', 'x.y', "X-!#$%&'*+-/=?^_`{|}~"]) checkFieldName(name);
  });

  test('refuses colons, spaces, controls, non-ASCII, empty and overlong names', () => {
    for (const name of ['X:Y', 'X Y', 'X\tY', 'Ünï', '', 'X'.repeat(77)]) {
      assert.throws(
        () => checkFieldName(name),
        (e: unknown) => e instanceof InputError && e.code === 'EINVALID_ARGUMENT',
      );
    }
    assert.throws(
      () => checkFieldName('X\r\nBcc'),
      (e: unknown) => e instanceof InputError && e.code === 'ECOMMAND_INJECTION',
    );
  });
});

describe('preparedField', () => {
  test('writes the value as it is, folding only at its own whitespace', () => {
    assert.equal(preparedField('X-Raw', '=?utf-8?Q?as_is?=', ascii), 'X-Raw: =?utf-8?Q?as_is?=\r\n');
  });

  test('refuses non-ASCII without SMTPUTF8, and line breaks', () => {
    assert.throws(
      () => preparedField('X-Raw', 'été', ascii),
      (e: unknown) => e instanceof InputError && e.code === 'ESMTPUTF8_REQUIRED',
    );
    assert.equal(preparedField('X-Raw', 'été', utf8), 'X-Raw: été\r\n');
    assert.throws(
      () => preparedField('X-Raw', 'a\r\n b', ascii),
      (e: unknown) => e instanceof InputError && e.code === 'ECOMMAND_INJECTION',
    );
  });
});

describe('whitespace at folds', () => {
  test('folds before the last character of a whitespace run, so a reader that unfolds to one space keeps it', () => {
    const value = `${'x'.repeat(80)}  !`;
    assert.equal(unstructuredField('Subject', value, ascii), `Subject: ${'x'.repeat(80)} \r\n !\r\n`);
  });

  test('a long run of whitespace goes inside an encoded word', () => {
    const field = unstructuredField('Subject', `a${' '.repeat(2000)}b`, ascii);
    for (const line of lines(field)) assert.ok(line.length <= 78, `${line.length}`);
    assert.match(field, /^Subject: a =\?utf-8\?Q\?_+/);
  });
});
