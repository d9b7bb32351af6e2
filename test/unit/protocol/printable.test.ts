import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeControls, printable } from '../../../src/protocol/printable.js';

describe('printable', () => {
  test('quotes and escapes control characters, quotes and backslashes', () => {
    assert.equal(printable('250 ok'), '"250 ok"');
    assert.equal(printable('a\r\nb\t\0'), '"a\\r\\nb\\t\\0"');
    assert.equal(printable('\x1b[2J\x7f\x85'), '"\\x1b[2J\\x7f\\x85"');
    assert.equal(printable('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
    assert.equal(printable('\u202eevil\u2028'), '"\\u202eevil\\u2028"');
  });

  test('keeps other Unicode', () => {
    assert.equal(printable('grüße 😀'), '"grüße 😀"');
  });

  test('cuts to the limit without splitting an escape', () => {
    assert.equal(printable('x'.repeat(100)), `"${'x'.repeat(80)}…"`);
    assert.equal(printable(`${'x'.repeat(79)}\r`), `"${'x'.repeat(79)}…"`);
    assert.equal(printable('abcdef', 3), '"abc…"');
    assert.equal(printable('😀😀', 2), '"😀…"');
  });

  test('escapeControls escapes only controls', () => {
    assert.equal(escapeControls('a "b" \\ \x1b c\n'), 'a "b" \\ \\x1b c\\n');
  });
});
