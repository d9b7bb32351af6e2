// SMTP smuggling (SEC Consult 2023; CVE-2023-51764/5/6): a receiver that accepts a sloppy end-of-data
// sequence must never find one inside a message we encoded. For each receiver below, the first place it
// would stop reading is checked to be the real end of our data.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { dotStuff } from '../../../src/protocol/dot-stuffing.js';

/** End-of-data sequences that real receivers have accepted, strict one first. */
const RECEIVERS: Record<string, string> = {
  strict: '\r\n.\r\n',
  'LF only': '\n.\n',
  'LF dot CRLF': '\n.\r\n',
  'CRLF dot LF': '\r\n.\n',
  'CR only': '\r.\r',
  'CRLF dot CR': '\r\n.\r',
  'CR dot CRLF': '\r.\r\n',
};

/** Where a receiver looking for `end` stops; the CRLF of the DATA command precedes the data. */
function stopsAt(wire: Buffer, end: string): number {
  const stream = `\r\n${wire.toString('latin1')}`;
  const at = stream.indexOf(end);
  return at === -1 ? -1 : at + end.length - 2;
}

function assertNoEarlyEnd(wire: Buffer): void {
  for (const [name, end] of Object.entries(RECEIVERS)) {
    const at = stopsAt(wire, end);
    // A lenient receiver may stop inside the real terminator (e.g. "\n.\r" in "\r\n.\r\n"), never before it.
    if (at !== -1) assert.ok(at >= wire.length - 3, `${name} receiver would stop at ${at} of ${wire.length}`);
  }
  assert.equal(stopsAt(wire, RECEIVERS.strict!), wire.length);
}

const PAYLOADS = [
  'Subject: a\r\n\r\nhi\n.\nMAIL FROM:<evil@example.com>\r\n',
  'hi\n.\r\nMAIL FROM:<evil@example.com>\r\n',
  'hi\r\n.\nMAIL FROM:<evil@example.com>\r\n',
  'hi\r.\rMAIL FROM:<evil@example.com>\r\n',
  'hi\r\n.\rMAIL FROM:<evil@example.com>\r\n',
  'hi\r.\r\nMAIL FROM:<evil@example.com>\r\n',
  'hi\r\n\x00.\r\nMAIL FROM:<evil@example.com>\r\n',
  '.\r\nMAIL FROM:<evil@example.com>\r\n',
  '.\nMAIL FROM:<evil@example.com>',
  'hi\r\n.\r\n',
  'hi\r\n.',
  'hi\n.',
  'hi\r.',
];

describe('SMTP smuggling: encoded data ends only at its real end', () => {
  for (const payload of PAYLOADS) {
    test(JSON.stringify(payload), () => {
      const wire = dotStuff(payload);
      assertNoEarlyEnd(wire);
      assert.ok(!wire.toString('latin1').slice(0, -5).includes('\r\n.\r\n'));
    });
  }

  test('the same across chunk boundaries', () => {
    for (const payload of PAYLOADS) {
      for (let cut = 0; cut <= payload.length; cut++) {
        const wire = dotStuff(
          Buffer.concat([Buffer.from(payload.slice(0, cut)), Buffer.from(payload.slice(cut))]),
        );
        assertNoEarlyEnd(wire);
      }
    }
  });

  test('for any input', () => {
    const byte = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(0x0d, 0x0a, 0x2e, 0x00) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 64 }), (bytes) => {
        assertNoEarlyEnd(dotStuff(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });
});
