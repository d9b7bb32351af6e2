import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../../../src/core/errors.js';
import { parameterizedField, parameterPieces } from '../../../src/mime/parameters.js';

/** Joins RFC 2231 pieces (single or continued) back into the value. */
function decode2231(pieces: readonly string[], name: string): string {
  const parts = pieces.map((piece) => piece.replace(/;$/, ''));
  if (parts.length === 1 && parts[0]!.startsWith(`${name}*=`)) {
    return decodeURIComponent(parts[0]!.slice(`${name}*=utf-8''`.length));
  }
  const joined = parts
    .map((part, i) => {
      const head = `${name}*${i}*=${i === 0 ? "utf-8''" : ''}`;
      assert.ok(part.startsWith(head), part);
      return part.slice(head.length);
    })
    .join('');
  return decodeURIComponent(joined);
}

describe('parameterPieces', () => {
  test('a token stays bare, anything with tspecials is quoted', () => {
    assert.deepEqual(parameterPieces({ name: 'charset', value: 'utf-8' }), ['charset=utf-8']);
    assert.deepEqual(parameterPieces({ name: 'filename', value: 'my report (v2).pdf' }), [
      'filename="my report (v2).pdf"',
    ]);
    assert.deepEqual(parameterPieces({ name: 'filename', value: 'a"b\\c' }), ['filename="a\\"b\\\\c"']);
  });

  test('a Chinese file name uses RFC 2231 for filename and RFC 2047 for the legacy name', () => {
    assert.deepEqual(parameterPieces({ name: 'filename', value: '测试报告.pdf' }), [
      "filename*=utf-8''%E6%B5%8B%E8%AF%95%E6%8A%A5%E5%91%8A.pdf",
    ]);
    assert.deepEqual(parameterPieces({ name: 'name', value: '测试报告.pdf', legacy: true }), [
      'name="=?utf-8?B?5rWL6K+V5oql5ZGKLnBkZg==?="',
    ]);
  });

  test('long non-ASCII values continue over numbered pieces, each fitting a line', () => {
    const value = `${'测试报告'.repeat(10)}.pdf`;
    const pieces = parameterPieces({ name: 'filename', value }, ';');
    assert.ok(pieces.length > 1);
    pieces.forEach((piece, i) => {
      assert.ok(piece.length + 1 <= 78, piece);
      assert.ok(piece.endsWith(';'), 'every piece is followed by ";" (the last by the suffix)');
      assert.ok(piece.startsWith(`filename*${i}*=`));
    });
    assert.equal(decode2231(pieces, 'filename'), value);
  });

  test('long legacy values become several encoded words inside one quoted string', () => {
    const pieces = parameterPieces({ name: 'name', value: `${'测试报告'.repeat(10)}.pdf`, legacy: true });
    assert.ok(pieces.length > 1);
    assert.ok(pieces[0]!.startsWith('name="=?utf-8?B?'));
    assert.ok(pieces.at(-1)!.endsWith('?="'));
    for (const piece of pieces) assert.ok(piece.length + 1 <= 78, piece);
  });

  test('refuses line breaks (injection)', () => {
    assert.throws(
      () => parameterPieces({ name: 'filename', value: 'a\r\nContent-Type: text/html' }),
      (e: unknown) => e instanceof InputError && e.code === 'ECOMMAND_INJECTION',
    );
  });

  test('RFC 2231 round trip and line lengths over random names (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }), (raw) => {
        const value = raw.replace(/[\r\n\0\u2028\u2029]/g, '_');
        const pieces = parameterPieces({ name: 'filename', value });
        for (const piece of pieces)
          assert.ok(/^[\x21-\x7e]/.test(piece) && !/[^\x20-\x7e]/.test(piece), piece);
        if (pieces[0]!.startsWith('filename=')) return;
        for (const piece of pieces) assert.ok(piece.length + 1 <= 78, piece);
        assert.equal(decode2231(pieces, 'filename'), value);
      }),
    );
  });
});

describe('parameterizedField', () => {
  test('folds between parameters', () => {
    assert.equal(
      parameterizedField('Content-Disposition', 'attachment', [{ name: 'filename', value: '测试报告.pdf' }]),
      "Content-Disposition: attachment;\r\n filename*=utf-8''%E6%B5%8B%E8%AF%95%E6%8A%A5%E5%91%8A.pdf\r\n",
    );
    assert.equal(
      parameterizedField('Content-Type', 'text/plain', [{ name: 'charset', value: 'utf-8' }]),
      'Content-Type: text/plain; charset=utf-8\r\n',
    );
  });
});
