// Invariants of compose() over random messages (arbitraries.ts), with and without SMTPUTF8 and 8BITMIME:
// well-formed bytes (CRLF only, lines ≤ 998, header lines ≤ 78 where foldable, encoded words ≤ 75),
// size = bytes, identical bytes on every stream(), no Bcc, ASCII-only header without SMTPUTF8, and the
// eightBit / needsSmtpUtf8 flags true exactly when the bytes need them.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compose } from '../../../src/mime/index.js';
import type { Message } from '../../../src/mime/message.js';
import { message, utf8Message } from './arbitraries.js';
import { assertWellFormed, bytesOf, headerBlock } from './support.js';

const bcc = 'blind.copy@hidden.example';

async function checkInvariants(
  m: Message,
  options: { smtpUtf8: boolean; eightBitMime: boolean },
): Promise<void> {
  const composed = await compose({ ...m, bcc }, options);
  const bytes = await bytesOf(composed);
  assertWellFormed(bytes);
  if (composed.size !== undefined) assert.equal(composed.size, bytes.length);
  assert.ok(bytes.equals(await bytesOf(composed)), 'identical bytes on a second stream()');
  const text = bytes.toString('latin1');
  assert.ok(!/^bcc:/im.test(text) && !text.includes(bcc), 'no Bcc in the bytes');
  assert.ok(composed.envelope.to.includes(bcc), 'Bcc in the envelope');
  const eightBit = /[\x80-\xff]/.test(text);
  assert.equal(composed.eightBit, eightBit);
  const header = headerBlock(bytes.toString('utf8'));
  if (!options.smtpUtf8) {
    assert.ok(!/[^\x00-\x7f]/.test(header), 'ASCII header without SMTPUTF8');
    assert.equal(composed.needsSmtpUtf8, false);
  }
  if (!options.eightBitMime && !options.smtpUtf8) assert.equal(eightBit, false, '7-bit without 8BITMIME');
  await composed.dispose();
}

describe('compose() invariants (property)', () => {
  for (const options of [
    { smtpUtf8: false, eightBitMime: false },
    { smtpUtf8: false, eightBitMime: true },
  ]) {
    test(`random messages, ${JSON.stringify(options)}`, async () => {
      await fc.assert(
        fc.asyncProperty(message, (m) => checkInvariants(m, options)),
        { numRuns: 60 },
      );
    });
  }

  test('random messages with UTF-8 addresses under SMTPUTF8', async () => {
    await fc.assert(
      fc.asyncProperty(utf8Message, (m) => checkInvariants(m, { smtpUtf8: true, eightBitMime: true })),
      { numRuns: 60 },
    );
  });

  test('streamed bodies and attachments give the same bytes as the same content in memory', async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.integer({ min: 64, max: 5000 }), async (m, piece) => {
        const date = new Date(Date.UTC(2026, 0, 1));
        const fixed = { ...m, date, messageId: '<fixed@example.com>' };
        const chunks = (b: Buffer) =>
          Readable.from(
            Array.from({ length: Math.ceil(b.length / piece) }, (_, i) =>
              b.subarray(i * piece, (i + 1) * piece),
            ),
          );
        const streamed: Message = {
          ...fixed,
          attachments: (m.attachments ?? []).map((a) => ({ ...a, content: chunks(a.content as Buffer) })),
        };
        const a = await compose(fixed);
        const b = await compose(streamed);
        const strip = (x: Buffer) => x.toString('latin1').replace(/=_postern_[A-Za-z0-9_-]+/g, 'B');
        assert.equal(strip(await bytesOf(b)), strip(await bytesOf(a)));
        await b.dispose();
      }),
      { numRuns: 40 },
    );
  });
});
