import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeWords, MAX_ENCODED_WORD } from '../../../src/mime/encoded-word.js';

/** Decodes a list of our encoded words (utf-8, B or Q) back to text. */
function decode(words: readonly string[]): string {
  const bytes = words.map((word) => {
    const m = /^=\?utf-8\?([BQ])\?(.*)\?=$/.exec(word);
    assert.ok(m, `not an encoded word: ${word}`);
    if (m[1] === 'B') return Buffer.from(m[2]!, 'base64');
    const q = m[2]!
      .replace(/_/g, ' ')
      .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    return Buffer.from(q, 'latin1');
  });
  return Buffer.concat(bytes).toString('utf8');
}

describe('encodeWords', () => {
  test('chooses Q for mostly-ASCII text and B for CJK', () => {
    assert.deepEqual(encodeWords('Café au lait'), ['=?utf-8?Q?Caf=C3=A9_au_lait?=']);
    assert.deepEqual(encodeWords('Café'), ['=?utf-8?B?Q2Fmw6k=?='], 'B when it is shorter');
    assert.deepEqual(encodeWords('测试报告'), ['=?utf-8?B?5rWL6K+V5oql5ZGK?=']);
  });

  test('Q leaves only letters, digits and !*+-/ unencoded, and writes a space as _', () => {
    assert.deepEqual(encodeWords('a b?c=d_e"f', 75, 'Q'), ['=?utf-8?Q?a_b=3Fc=3Dd=5Fe=22f?=']);
  });

  test('splits long text into words of at most 75 characters, on character boundaries', () => {
    const text = '测试'.repeat(40) + '😀'.repeat(20);
    const words = encodeWords(text);
    assert.ok(words.length > 1);
    for (const word of words) {
      assert.ok(word.length <= MAX_ENCODED_WORD, word);
      // Each word decodes on its own to whole characters.
      assert.ok(!decode([word]).includes('\uFFFD'), word);
    }
    assert.equal(decode(words), text);
  });

  test('honours a smaller maximum', () => {
    for (const word of encodeWords('Ünïcödé '.repeat(10), 40)) assert.ok(word.length <= 40, word);
  });

  test('round trip over random Unicode (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.integer({ min: 24, max: 75 }),
        (text, max) => {
          const words = encodeWords(text, max);
          for (const word of words) assert.ok(word.length <= max);
          assert.equal(decode(words), text);
        },
      ),
    );
  });
});
