import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { contentTypeFor, parseMediaType } from '../../../src/mime/content-type.js';

describe('contentTypeFor', () => {
  test('knows the common extensions, case-insensitively', () => {
    assert.equal(contentTypeFor('测试报告.pdf'), 'application/pdf');
    assert.equal(contentTypeFor('PHOTO.JPG'), 'image/jpeg');
    assert.equal(contentTypeFor('a.tar.gz'), 'application/gzip');
    assert.equal(
      contentTypeFor('book.xlsx'),
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    assert.equal(contentTypeFor('invite.ics'), 'text/calendar');
  });

  test('falls back to application/octet-stream', () => {
    assert.equal(contentTypeFor('README'), 'application/octet-stream');
    assert.equal(contentTypeFor('x.unknownext'), 'application/octet-stream');
    assert.equal(contentTypeFor(undefined), 'application/octet-stream');
  });
});

describe('parseMediaType', () => {
  test('parses type and parameters, unquoting values', () => {
    assert.deepEqual(parseMediaType('Text/Plain; charset="iso-8859-1"; format=flowed'), {
      type: 'text/plain',
      parameters: [
        { name: 'charset', value: 'iso-8859-1' },
        { name: 'format', value: 'flowed' },
      ],
    });
  });

  test('refuses what is not a media type, and line breaks', () => {
    for (const bad of ['text', 'text/', '/plain', 'text/plain/x', 'te xt/plain', 'text/plain; a b=c']) {
      assert.throws(
        () => parseMediaType(bad),
        (e: unknown) => e instanceof InputError && e.code === 'EINVALID_ARGUMENT',
        bad,
      );
    }
    assert.throws(
      () => parseMediaType('text/plain\r\nBcc: x@y.z'),
      (e: unknown) => e instanceof InputError && e.code === 'ECOMMAND_INJECTION',
    );
  });
});
