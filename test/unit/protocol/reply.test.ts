import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isPosternError, PosternError, ProtocolError } from '../../../src/core/errors.js';
import {
  formatReply,
  isIntermediate,
  isPermanent,
  isPositive,
  isTransient,
  makeReply,
  type Reply,
  ReplyParser,
} from '../../../src/protocol/reply.js';

function parse(lines: readonly string[], parser = new ReplyParser()): Reply {
  let reply: Reply | undefined;
  lines.forEach((line, i) => {
    reply = parser.push(line);
    if (i < lines.length - 1) assert.equal(reply, undefined, `reply ended early at ${line}`);
  });
  assert.ok(reply, 'no reply');
  return reply;
}

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `not a ProtocolError: ${String(e)}`);
    assert.equal(e.code, code);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

describe('ReplyParser', () => {
  test('a one-line reply', () => {
    const reply = parse(['220 mx.example.com ESMTP ready']);
    assert.equal(reply.code, 220);
    assert.equal(reply.enhanced, undefined);
    assert.deepEqual(reply.lines, ['mx.example.com ESMTP ready']);
    assert.equal(reply.message, 'mx.example.com ESMTP ready');
  });

  test('a multi-line reply (RFC 5321 §4.2.1 example shape)', () => {
    const reply = parse([
      '250-First line',
      '250-Second line',
      '250-234 Text beginning with numbers',
      '250 The last line',
    ]);
    assert.equal(reply.code, 250);
    assert.deepEqual(reply.lines, [
      'First line',
      'Second line',
      '234 Text beginning with numbers',
      'The last line',
    ]);
    assert.equal(reply.message, 'First line\nSecond line\n234 Text beginning with numbers\nThe last line');
  });

  test('enhanced status codes (RFC 2034) are split off every line', () => {
    const reply = parse([
      '550-5.1.1 The email account that you tried to reach does not exist.',
      '550-5.1.1 Please try double-checking the address.',
      '550 5.1.1  https://support.example/?p=NoSuchUser',
    ]);
    assert.equal(reply.code, 550);
    assert.equal(reply.enhanced, '5.1.1');
    assert.equal(reply.lines[0], '5.1.1 The email account that you tried to reach does not exist.');
    assert.equal(
      reply.message,
      'The email account that you tried to reach does not exist.\nPlease try double-checking the address.\nhttps://support.example/?p=NoSuchUser',
    );
  });

  test('an enhanced code whose class differs from the reply code is not one', () => {
    const reply = parse(['250 5.1.1 odd']);
    assert.equal(reply.enhanced, undefined);
    assert.equal(reply.message, '5.1.1 odd');
  });

  test('enhanced codes with three-digit parts, and look-alikes that are not codes', () => {
    assert.equal(parse(['451 4.123.456 later']).enhanced, '4.123.456');
    assert.equal(parse(['451 4.1234.1 x']).enhanced, undefined);
    assert.equal(parse(['451 4.1.1x']).enhanced, undefined);
    assert.equal(parse(['235 2.7.0']).enhanced, '2.7.0');
    assert.equal(parse(['235 2.7.0']).message, '');
  });

  test('quirks: a bare code, no space after the code, trailing whitespace', () => {
    const bare = parse(['250']);
    assert.equal(bare.code, 250);
    assert.deepEqual(bare.lines, ['']);
    assert.deepEqual(parse(['250OK']).lines, ['OK']);
    assert.deepEqual(parse(['250 ok  \t']).lines, ['ok']);
    assert.deepEqual(parse(['250-a ', '250']).lines, ['a', '']);
    assert.deepEqual(parse(['250-', '250 x']).lines, ['', 'x']);
  });

  test('the parser is reusable: replies follow each other', () => {
    const parser = new ReplyParser();
    assert.equal(parse(['250-a', '250 b'], parser).code, 250);
    assert.equal(parse(['354 go ahead'], parser).code, 354);
    assert.equal(parser.pendingLines, 0);
    parser.push('250-x');
    assert.equal(parser.pendingLines, 1);
    parser.reset();
    assert.equal(parse(['221 bye'], parser).code, 221);
  });

  test('rejects lines that are not replies, quoting them safely', () => {
    const parser = new ReplyParser();
    throwsCode(() => parser.push('HTTP/1.1 400 Bad Request'), 'EPROTOCOL', /"HTTP\/1\.1 400 Bad Request"/);
    throwsCode(() => parser.push('199 too low'), 'EPROTOCOL');
    throwsCode(() => parser.push('600 too high'), 'EPROTOCOL');
    throwsCode(() => parser.push('25'), 'EPROTOCOL');
    throwsCode(() => parser.push(''), 'EPROTOCOL');
    throwsCode(() => parser.push('2500 four digits'), 'EPROTOCOL');
    throwsCode(() => parser.push('2x0 x'), 'EPROTOCOL');
    throwsCode(() => parser.push('\x1b[2J250 x'), 'EPROTOCOL', /\\x1b\[2J/);
  });

  test('error messages cut long lines to 80 characters', () => {
    const parser = new ReplyParser();
    assert.throws(
      () => parser.push(`x${'y'.repeat(500)}`),
      (e: unknown) =>
        e instanceof ProtocolError && /"xy{79}…"/.test(e.message) && !e.message.includes('y'.repeat(81)),
    );
  });

  test('rejects a continuation line with another code', () => {
    const parser = new ReplyParser();
    parser.push('250-first');
    throwsCode(() => parser.push('550 second'), 'EPROTOCOL', /"550 second".*250/);
    // The parser started afresh after the error.
    assert.equal(parse(['221 bye'], parser).code, 221);
  });

  test('limits lines and bytes', () => {
    const lines = new ReplyParser({ maxLines: 3 });
    lines.push('250-1');
    lines.push('250-2');
    lines.push('250-3');
    throwsCode(() => lines.push('250 4'), 'EREPLY_TOO_LONG', /more than 3 lines/);
    assert.equal(parse(['250-1', '250-2', '250 3'], lines).lines.length, 3);

    const bytes = new ReplyParser({ maxBytes: 20 });
    bytes.push('250-123456789'); // 13 + CRLF = 15
    throwsCode(() => bytes.push('250 12345'), 'EREPLY_TOO_LONG');
    assert.equal(parse(['250 12345678901234'], bytes).code, 250); // 18 + CRLF = 20, the limit
    throwsCode(() => bytes.push('250 123456789012345'), 'EREPLY_TOO_LONG', /20 octets/);
  });

  test('the byte limit counts UTF-8 octets and CRLF', () => {
    const parser = new ReplyParser({ maxBytes: 10 });
    assert.equal(parse(['250 äbc'], parser).code, 250); // 8 octets + 2
    throwsCode(() => parser.push('250 äbcd'), 'EREPLY_TOO_LONG');
  });

  test('default limits: 256 lines', () => {
    const parser = new ReplyParser();
    for (let i = 0; i < 255; i++) parser.push(`250-line ${i}`);
    assert.equal(parser.push('250 last')?.lines.length, 256);
    for (let i = 0; i < 256; i++) parser.push(`250-line ${i}`);
    throwsCode(() => parser.push('250 last'), 'EREPLY_TOO_LONG');
  });

  test('replies are frozen', () => {
    const reply = parse(['250 ok']);
    assert.ok(Object.isFrozen(reply));
    assert.ok(Object.isFrozen(reply.lines));
  });

  test('(d) random lines only ever throw PosternError', () => {
    const line = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc
        .tuple(
          fc.integer({ min: 0, max: 999 }),
          fc.constantFrom('', ' ', '-', 'x', '\t'),
          fc.string({ maxLength: 20 }),
        )
        .map(([code, sep, text]) => `${String(code).padStart(3, '0')}${sep}${text}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const parser = new ReplyParser({ maxLines: 5, maxBytes: 200 });
        for (const l of lines) {
          try {
            const reply = parser.push(l);
            if (reply) {
              assert.ok(reply.code >= 200 && reply.code <= 599);
              assert.equal(typeof reply.message, 'string');
            }
          } catch (e) {
            assert.ok(e instanceof PosternError, `threw ${String(e)}`);
            assert.ok(e.code === 'EPROTOCOL' || e.code === 'EREPLY_TOO_LONG');
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('reply helpers', () => {
  test('classes', () => {
    const r = (code: number) => makeReply(code, ['x']);
    assert.deepEqual(
      [250, 354, 451, 550].map((c) => [
        isPositive(r(c)),
        isIntermediate(r(c)),
        isTransient(r(c)),
        isPermanent(r(c)),
      ]),
      [
        [true, false, false, false],
        [false, true, false, false],
        [false, false, true, false],
        [false, false, false, true],
      ],
    );
  });

  test('formatReply gives one line with the enhanced code', () => {
    assert.equal(formatReply(makeReply(550, ['5.1.1 User unknown'])), '550 5.1.1 User unknown');
    assert.equal(formatReply(makeReply(250, ['a', 'b'])), '250 a b');
    assert.equal(formatReply(makeReply(250, [''])), '250');
    assert.equal(formatReply(makeReply(421, ['4.4.2 timeout', '4.4.2 bye'])), '421 4.4.2 timeout bye');
  });

  test('formatReply escapes control characters from the peer', () => {
    assert.equal(formatReply(makeReply(550, ['no\x1b[31m red\x07'])), '550 no\\x1b[31m red\\x07');
    assert.equal(formatReply(makeReply(550, ['quote "kept"'])), '550 quote "kept"');
  });

  test('a Reply fits where core errors expect one', () => {
    const reply = makeReply(535, ['5.7.8 Authentication credentials invalid']);
    const error = new PosternError('EAUTH_FAILED', formatReply(reply), { reply });
    assert.equal(error.reply?.enhanced, '5.7.8');
    assert.equal(error.transient, false);
    assert.ok(isPosternError(error));
  });
});
