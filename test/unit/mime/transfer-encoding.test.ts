import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { base64Encode, base64Lines, base64Size } from '../../../src/mime/base64.js';
import { encodeQuotedPrintable } from '../../../src/mime/quoted-printable.js';
import { encodeText, toCrlf } from '../../../src/mime/transfer-encoding.js';
import { decodeQuotedPrintable } from './support.js';

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return Buffer.concat(out);
}

async function* chunked(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

function expectedBase64(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

describe('base64', () => {
  test('lines of 76 characters joined by CRLF, no CRLF after the last', () => {
    const bytes = randomBytes(1000);
    const out = base64Encode(bytes).toString('latin1');
    assert.equal(out, expectedBase64(bytes));
    assert.equal(out.length, base64Size(bytes.length));
  });

  test('base64Size counts every length exactly', () => {
    for (let n = 0; n < 400; n++)
      assert.equal(base64Size(n), expectedBase64(Buffer.alloc(n)).length, `n=${n}`);
  });

  test('streaming gives the same lines whatever the chunk sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
        async (data, sizes) => {
          const bytes = Buffer.from(data);
          const out = await collect(base64Lines(chunked(bytes, sizes)));
          assert.equal(out.toString('latin1'), expectedBase64(bytes));
        },
      ),
    );
  });
});

describe('quoted-printable', () => {
  test('encodes =, non-ASCII and trailing whitespace; keeps CRLF as hard breaks', () => {
    assert.equal(
      encodeQuotedPrintable(Buffer.from('café = ok \r\nnext\t')).toString(),
      'caf=C3=A9 =3D ok=20\r\nnext=09',
    );
  });

  test('soft breaks keep lines at 76 characters and never split =XX', () => {
    const out = encodeQuotedPrintable(Buffer.from('é'.repeat(100) + 'x'.repeat(200))).toString();
    for (const line of out.split('\r\n')) {
      assert.ok(line.length <= 76, `${line.length}`);
      assert.ok(!/=[0-9A-F]?$/.test(line.replace(/=$/, '')), line);
    }
  });

  test('round trip and line limits over random bytes with CRLF line ends (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const text = toCrlf(Buffer.from(data));
        const out = encodeQuotedPrintable(text).toString('latin1');
        assert.ok(/^[\x20-\x7e\r\n\t]*$/.test(out));
        for (const line of out.split('\r\n')) {
          assert.ok(line.length <= 76);
          assert.ok(!/[ \t]$/.test(line), 'no trailing whitespace');
        }
        assert.ok(decodeQuotedPrintable(out).equals(text));
      }),
    );
  });
});

describe('encodeText', () => {
  const no8 = { eightBitMime: false };
  const with8 = { eightBitMime: true };

  test('normalises every line end to CRLF', () => {
    assert.equal(toCrlf(Buffer.from('a\nb\rc\r\nd')).toString(), 'a\r\nb\r\nc\r\nd');
  });

  test('7bit for pure ASCII with short lines', () => {
    const out = encodeText(Buffer.from('Hello\nworld'), no8);
    assert.equal(out.encoding, '7bit');
    assert.equal(out.body.toString(), 'Hello\r\nworld');
  });

  test('quoted-printable for ASCII with a line over 998 octets', () => {
    assert.equal(encodeText(Buffer.from('x'.repeat(1200)), no8).encoding, 'quoted-printable');
    assert.equal(encodeText(Buffer.from('x'.repeat(1200)), with8).encoding, 'quoted-printable');
  });

  test('8bit only with 8BITMIME and short lines', () => {
    assert.equal(encodeText(Buffer.from('Grüße'), with8).encoding, '8bit');
    assert.equal(
      encodeText(Buffer.from('Grüße aus Köln, wie geht es dir heute?'), no8).encoding,
      'quoted-printable',
    );
    assert.equal(encodeText(Buffer.from(`Grüße ${'x'.repeat(1000)}`), with8).encoding, 'quoted-printable');
  });

  test('base64 for text in scripts of multi-byte characters', () => {
    assert.equal(encodeText(Buffer.from('这是一个测试。'.repeat(20)), no8).encoding, 'base64');
  });

  test('NUL is never sent as 7bit or 8bit', () => {
    assert.equal(encodeText(Buffer.from('a\0b'), with8).encoding, 'base64');
    assert.equal(
      encodeText(Buffer.from('a longer line with one \0 in it'), with8).encoding,
      'quoted-printable',
    );
  });
});
