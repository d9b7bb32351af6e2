import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AuthError } from '../../../src/core/errors.js';
import { saslprep } from '../../../src/sasl/saslprep.js';
import {
  inTable,
  L_CAT,
  MAPPED_TO_NOTHING,
  NON_ASCII_SPACE,
  PROHIBITED,
  RAND_AL_CAT,
  UNASSIGNED,
} from '../../../src/sasl/stringprep-tables.js';
import { authError } from './auth-error.js';

describe('saslprep: the RFC 4013 §3 examples', () => {
  test('1: SOFT HYPHEN is mapped to nothing', () => assert.equal(saslprep('I\u00ADX'), 'IX'));
  test('2: no transformation', () => assert.equal(saslprep('user'), 'user'));
  test('3: case is preserved', () => assert.equal(saslprep('USER'), 'USER'));
  test('4: output is NFKC', () => assert.equal(saslprep('\u00AA'), 'a'));
  test('5: ROMAN NUMERAL NINE becomes IX', () => assert.equal(saslprep('\u2168'), 'IX'));
  test('6: BEL is prohibited', () => assert.throws(() => saslprep('\u0007'), authError('EAUTH_PROTOCOL')));
  test('7: the bidi check fails', () =>
    assert.throws(() => saslprep('\u0627\u0031'), authError('EAUTH_PROTOCOL', /right-to-left/)));
});

describe('saslprep: mapping, prohibition and bidi', () => {
  test('non-ASCII spaces become SPACE, zero-width characters disappear', () => {
    assert.equal(saslprep('a\u00A0b\u3000c'), 'a b c');
    assert.equal(saslprep('pa\u200Bss\uFEFF'), 'pass');
  });

  test('prohibited code points of each C table are refused', () => {
    const samples = [
      '\u0085',
      '\u2028',
      '\uE000',
      '\uFDD0',
      '\uD800',
      '\uFFFD',
      '\u2FF0',
      '\u202E',
      '\u{E0001}',
    ];
    for (const sample of samples) {
      assert.throws(
        () => saslprep(`a${sample}b`),
        authError('EAUTH_PROTOCOL'),
        sample.codePointAt(0)?.toString(16),
      );
    }
  });

  test('a code point unassigned in Unicode 3.2 is refused for stored strings and allowed for queries', () => {
    // U+0221 was assigned in Unicode 4.0, so the runtime knows it but RFC 3454 does not.
    assert.throws(() => saslprep('\u0221'), authError('EAUTH_PROTOCOL', /unassigned/));
    assert.equal(saslprep('\u0221', { allowUnassigned: true }), '\u0221');
    assert.equal(saslprep('\u{1F600}', { allowUnassigned: true }), '\u{1F600}');
  });

  test('right-to-left text must start and end right-to-left and hold no left-to-right letters', () => {
    assert.equal(saslprep('\u0627\u0031\u0628'), '\u0627\u0031\u0628');
    assert.equal(saslprep('\u05D0\u05D1'), '\u05D0\u05D1');
    assert.throws(() => saslprep('\u0627a\u0628'), authError('EAUTH_PROTOCOL'));
    assert.throws(() => saslprep('1\u0627'), authError('EAUTH_PROTOCOL'));
  });

  test('the error names the label and never the text itself', () => {
    try {
      saslprep('hunter2\u0007', { label: 'password' });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof AuthError);
      assert.match(err.message, /password/);
      assert.doesNotMatch(err.message, /hunter2/);
    }
  });

  test('the tables hold the RFC 3454 boundaries', () => {
    assert.ok(inTable(MAPPED_TO_NOTHING, 0x00ad) && !inTable(MAPPED_TO_NOTHING, 0x00ae));
    assert.ok(inTable(NON_ASCII_SPACE, 0x200b) && !inTable(NON_ASCII_SPACE, 0x200c));
    assert.ok(inTable(PROHIBITED, 0x0000) && inTable(PROHIBITED, 0x10ffff) && !inTable(PROHIBITED, 0x0020));
    assert.ok(inTable(UNASSIGNED, 0x0221) && !inTable(UNASSIGNED, 0x0220) && inTable(UNASSIGNED, 0xe0080));
    assert.ok(inTable(RAND_AL_CAT, 0x05be) && inTable(RAND_AL_CAT, 0xfefc) && !inTable(RAND_AL_CAT, 0xfefd));
    assert.ok(inTable(L_CAT, 0x0041) && inTable(L_CAT, 0x10fffd) && !inTable(L_CAT, 0x0030));
    for (const table of [MAPPED_TO_NOTHING, NON_ASCII_SPACE, PROHIBITED, UNASSIGNED, RAND_AL_CAT, L_CAT]) {
      for (let i = 1; i < table.length; i++) assert.ok(table[i - 1]! <= table[i]!, 'ranges are sorted');
    }
  });
});

describe('saslprep: properties', () => {
  test('printable ASCII is left unchanged', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((cp) => String.fromCharCode(cp)) }),
        (text) => {
          assert.equal(saslprep(text), text);
        },
      ),
    );
  });

  test('a prepared string prepares to itself, and failures are always AuthError EAUTH_PROTOCOL', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (text) => {
        let prepared: string;
        try {
          prepared = saslprep(text, { allowUnassigned: true });
        } catch (err) {
          assert.ok(err instanceof AuthError && err.code === 'EAUTH_PROTOCOL');
          return;
        }
        assert.equal(saslprep(prepared, { allowUnassigned: true }), prepared);
      }),
      { numRuns: 500 },
    );
  });
});
