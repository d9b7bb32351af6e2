// The DATA reader: un-stuffing, the end-of-data line, and SMTP smuggling (SEC Consult 2023,
// CVE-2023-51764/5/6): only CRLF.CRLF ends the data, whatever other ending a sender tries and however the
// bytes are split into chunks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type BareLineEndingPolicy, DataReader, dotStuff } from '../../../src/protocol/index.js';

interface Outcome {
  message: string;
  /** Offset in the input just after the end-of-data line, or -1. */
  end: number;
  violation: string | undefined;
}

/** Feeds `input` split at `cuts` and reports the message, where the data ended and any violation. */
function read(input: Buffer, cuts: readonly number[] = [], policy: BareLineEndingPolicy = 'reject'): Outcome {
  const reader = new DataReader({ bareLineEndings: policy });
  const points = [...new Set(cuts.map((c) => Math.min(c, input.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of [...points, input.length]) {
    const chunk = input.subarray(from, point);
    from = point;
    if (chunk.length === 0) continue;
    const result = reader.push(chunk);
    parts.push(...result.data);
    if (result.violation)
      return { message: Buffer.concat(parts).toString('latin1'), end: -1, violation: result.violation };
    if (result.rest) {
      return {
        message: Buffer.concat(parts).toString('latin1'),
        end: point - result.rest.length,
        violation: undefined,
      };
    }
  }
  return { message: Buffer.concat(parts).toString('latin1'), end: -1, violation: undefined };
}

const b = (text: string) => Buffer.from(text, 'latin1');

describe('DataReader', () => {
  test('un-stuffs leading dots and ends at CRLF.CRLF, leaving what follows', () => {
    const input = b('Subject: x\r\n\r\n..one\r\n...two\r\n.\r\nQUIT\r\n');
    const out = read(input);
    assert.equal(out.message, 'Subject: x\r\n\r\n.one\r\n..two\r\n');
    assert.equal(out.end, input.length - 'QUIT\r\n'.length);
  });

  test('an empty message and a message whose first line is the end', () => {
    assert.deepEqual(read(b('.\r\n')), { message: '', end: 3, violation: undefined });
    assert.deepEqual(read(b('\r\n.\r\n')), { message: '\r\n', end: 5, violation: undefined });
  });

  test('a dot inside a line is data', () => {
    assert.equal(read(b('a.\r\nb\r\n.\r\n')).message, 'a.\r\nb\r\n');
  });

  const SMUGGLING = [
    '\n.\n',
    '\n.\r',
    '\r.\n',
    '\r.\r',
    '\n.\r\n',
    '\r.\r\n',
    '\r\n\x00.\r\n',
    '\r\n.\r\r\n',
  ];
  const SMUGGLED =
    'MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nforged\r\n.\r\n';

  for (const ending of SMUGGLING) {
    test(`smuggling ending ${JSON.stringify(ending)} never ends the data`, () => {
      // The attacker's own final ".\r\n" is the real end of the whole message.
      const input = b(`Subject: hi\r\n\r\nbody${ending}${SMUGGLED}`);
      const strict = read(input);
      // Under 'reject', a bare CR or LF stops the reader at once; otherwise the data ends only at the real end.
      if (strict.violation === undefined) assert.equal(strict.end, input.length);
      else assert.equal(strict.end, -1);
      const normalized = read(input, [], 'normalize');
      assert.equal(normalized.violation, undefined);
      assert.equal(normalized.end, input.length, 'only the final CRLF.CRLF ends the data');
      assert.ok(
        normalized.message.includes('MAIL FROM:<evil@attacker.example>'),
        'the smuggled text is message data',
      );
    });
  }

  test('every bare CR and LF is a violation under reject', () => {
    assert.equal(read(b('a\nb\r\n.\r\n')).violation, 'bare-lf');
    assert.equal(read(b('a\rb\r\n.\r\n')).violation, 'bare-cr');
    assert.equal(read(b('\n.\r\n')).violation, 'bare-lf');
    assert.equal(read(b('a\r\n.\rx')).violation, 'bare-cr');
    assert.equal(read(b('a\r\r\n.\r\n')).violation, 'bare-cr');
    // A NUL is data (BINARYMIME has no line rules, 8BITMIME is the backend's concern).
    assert.equal(read(b('a\x00b\r\n.\r\n')).message, 'a\x00b\r\n');
  });

  test('normalize turns bare CR and LF into CRLF, un-stuffing after them, never ending on them', () => {
    assert.equal(read(b('a\nb\rc\r\n.\r\n'), [], 'normalize').message, 'a\r\nb\r\nc\r\n');
    assert.equal(read(b('a\n..b\r\n.\r\n'), [], 'normalize').message, 'a\r\n.b\r\n');
    // "." alone after a bare LF is not the end, and becomes an empty line.
    const out = read(b('a\n.\r\nb\r\n.\r\n'), [], 'normalize');
    assert.equal(out.message, 'a\r\n\r\nb\r\n');
    assert.equal(out.end, 11);
  });

  test('push after the end throws', () => {
    const reader = new DataReader();
    reader.push(b('.\r\n'));
    assert.throws(() => reader.push(b('x')));
  });

  // Bytes drawn mostly from the characters that matter at line boundaries.
  const tricky = fc
    .array(fc.constantFrom('\r', '\n', '.', 'a', '\x00', '\r\n', '\r\n.', '.\r\n'), { maxLength: 40 })
    .map((parts) => b(parts.join('')));
  const cuts = fc.array(fc.nat(200), { maxLength: 8 });

  test('property: any split of the same bytes gives the same message and the same end', () => {
    for (const policy of ['reject', 'normalize'] as const) {
      fc.assert(
        fc.property(tricky, cuts, (input, points) => {
          const whole = read(input, [], policy);
          const split = read(input, points, policy);
          assert.equal(split.violation, whole.violation);
          assert.equal(split.end, whole.end);
          if (whole.violation === undefined) assert.equal(split.message, whole.message);
        }),
        { numRuns: 3000 },
      );
    }
  });

  test('property: the end of data is found only right after CRLF "." CRLF', () => {
    for (const policy of ['reject', 'normalize'] as const) {
      fc.assert(
        fc.property(tricky, cuts, (input, points) => {
          const { end } = read(input, points, policy);
          if (end === -1) return;
          const before = input.subarray(0, end).toString('latin1');
          assert.ok(
            before === '.\r\n' || before.endsWith('\r\n.\r\n'),
            `ended after ${JSON.stringify(before)}`,
          );
        }),
        { numRuns: 3000 },
      );
    }
  });

  test('property: what our DotStuffer encodes comes back byte for byte, ending exactly at its end', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), cuts, (text, points) => {
        const message = Buffer.from(text.replace(/\r?\n|\r/g, '\r\n'), 'utf8');
        const wire = dotStuff(message);
        const out = read(Buffer.concat([wire, b('NEXT')]), points);
        assert.equal(out.violation, undefined);
        assert.equal(out.end, wire.length);
        const expected =
          message.length === 0 || message.toString('latin1').endsWith('\r\n')
            ? message
            : Buffer.concat([message, b('\r\n')]);
        assert.equal(out.message, expected.toString('latin1'));
        assert.ok(out.message.endsWith('\r\n') || out.message === '');
      }),
      { numRuns: 2000 },
    );
  });
});
