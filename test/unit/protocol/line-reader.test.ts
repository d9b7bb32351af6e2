import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../../src/core/errors.js';
import { LineReader } from '../../../src/protocol/line-reader.js';

const b = (s: string) => Buffer.from(s, 'utf8');

function tooLong(e: unknown): boolean {
  return e instanceof ProtocolError && e.code === 'EREPLY_TOO_LONG';
}

describe('LineReader', () => {
  test('splits CRLF lines and keeps the partial rest', () => {
    const reader = new LineReader();
    assert.deepEqual(reader.push(b('250-a\r\n250 b\r\n220 par')), ['250-a', '250 b']);
    assert.equal(reader.pending, 7);
    assert.deepEqual(reader.push(b('tial\r\n')), ['220 partial']);
    assert.equal(reader.pending, 0);
  });

  test('a bare LF also ends a line (tolerant reading)', () => {
    assert.deepEqual(new LineReader().push(b('a\nb\r\nc\n')), ['a', 'b', 'c']);
  });

  test('CR and LF split across chunks', () => {
    const reader = new LineReader();
    assert.deepEqual(reader.push(b('250 ok\r')), []);
    assert.equal(reader.pending, 7);
    assert.deepEqual(reader.push(b('\n')), ['250 ok']);
    assert.deepEqual(reader.push(b('\r')), []);
    assert.deepEqual(reader.push(b('\n')), ['']);
  });

  test('a line over many chunks', () => {
    const reader = new LineReader();
    for (const part of ['2', '5', '0', ' ', 'o', 'k']) assert.deepEqual(reader.push(b(part)), []);
    assert.deepEqual(reader.push(b('\r\nnext')), ['250 ok']);
    assert.equal(reader.pending, 4);
  });

  test('only one CR is removed, and a CR inside a line stays', () => {
    assert.deepEqual(new LineReader().push(b('a\rb\r\r\n')), ['a\rb\r']);
  });

  test('empty lines and empty chunks', () => {
    const reader = new LineReader();
    assert.deepEqual(reader.push(Buffer.alloc(0)), []);
    assert.deepEqual(reader.push(b('\r\n\n')), ['', '']);
  });

  test('decodes UTF-8, also when a character is split across chunks', () => {
    const reader = new LineReader();
    const bytes = b('250 grüße\r\n');
    assert.deepEqual(reader.push(bytes.subarray(0, 7)), []);
    assert.deepEqual(reader.push(bytes.subarray(7)), ['250 grüße']);
  });

  test('rejects an over-long line without buffering it', () => {
    const reader = new LineReader({ maxLineLength: 10 });
    assert.deepEqual(reader.push(b('0123456789\r\n')), ['0123456789']);
    assert.throws(() => reader.push(b('01234567890\r\n')), tooLong);
    assert.throws(() => reader.push(b('012345678901')), tooLong); // no line end yet: still refused
    assert.equal(reader.pending, 0);
    reader.push(b('01234'));
    assert.throws(() => reader.push(b('5678901')), tooLong);
    assert.equal(reader.pending, 0);
  });

  test('the limit counts the line without its CRLF, even when the CR arrives alone', () => {
    const reader = new LineReader({ maxLineLength: 4 });
    assert.deepEqual(reader.push(b('abcd\r')), []);
    assert.deepEqual(reader.push(b('\n')), ['abcd']);
    reader.push(b('abcd'));
    assert.throws(() => reader.push(b('e\n')), tooLong);
  });

  test('memory stays bounded for a peer that never ends a line', () => {
    const reader = new LineReader();
    const chunk = Buffer.alloc(1000, 0x41);
    assert.throws(() => {
      for (let i = 0; i < 100; i++) reader.push(chunk);
    }, tooLong);
    assert.ok(reader.pending <= 4097);
  });

  test('holds a copy, not the caller’s buffer', () => {
    const reader = new LineReader();
    const chunk = b('250 ab');
    reader.push(chunk);
    chunk.fill(0x58);
    assert.deepEqual(reader.push(b('\r\n')), ['250 ab']);
  });

  test('reset drops a partial line (after STARTTLS)', () => {
    const reader = new LineReader();
    assert.deepEqual(reader.push(b('220 go ahead\r\n250 injected')), ['220 go ahead']);
    assert.ok(reader.pending > 0);
    reader.reset();
    assert.equal(reader.pending, 0);
    assert.deepEqual(reader.push(b('250 real\r\n')), ['250 real']);
  });

  test('any chunking gives the same lines', () => {
    const text = fc
      .array(fc.constantFrom('a', 'b', '\r', '\n', '\r\n', 'ü'), { maxLength: 60 })
      .map((p) => p.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 8 }), (input, cuts) => {
        const bytes = b(input);
        const whole = new LineReader().push(bytes);
        const reader = new LineReader();
        const lines: string[] = [];
        let from = 0;
        for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y)) {
          lines.push(...reader.push(bytes.subarray(from, cut)));
          from = cut;
        }
        lines.push(...reader.push(bytes.subarray(from)));
        assert.deepEqual(lines, whole);
      }),
      { numRuns: 500 },
    );
  });
});
