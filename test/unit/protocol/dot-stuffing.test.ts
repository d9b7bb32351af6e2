import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isPosternError } from '../../../src/core/errors.js';
import { DotStuffer, dotStuff } from '../../../src/protocol/dot-stuffing.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/** Feeds chunks through a DotStuffer and collects everything it emits. */
async function throughStream(chunks: readonly (Buffer | string)[], options = {}): Promise<Buffer> {
  const stuffer = new DotStuffer(options);
  const out: Buffer[] = [];
  stuffer.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    stuffer.on('end', resolve);
    stuffer.on('error', reject);
  });
  for (const chunk of chunks) stuffer.write(chunk);
  stuffer.end();
  await ended;
  return Buffer.concat(out);
}

/**
 * A receiver written independently of the implementation: byte by byte, lines end only at CRLF, the
 * data ends at the first line that is exactly ".", and one leading dot is removed from other lines.
 */
function unstuff(wire: Uint8Array): { body: Buffer; end: number } {
  const body: number[] = [];
  let line: number[] = [];
  for (let i = 0; i < wire.length; i++) {
    const byte = wire[i]!;
    if (byte === CR && wire[i + 1] === LF) {
      if (line.length === 1 && line[0] === DOT) return { body: Buffer.from(body), end: i + 2 };
      const content = line[0] === DOT ? line.slice(1) : line;
      for (const b of content) body.push(b);
      body.push(CR, LF);
      line = [];
      i++;
    } else {
      line.push(byte);
    }
  }
  return { body: Buffer.from(body), end: -1 };
}

/** The expected message: every bare CR, bare LF and CRLF as CRLF, plus a final CRLF when missing. */
function normalise(input: Uint8Array, finalCrlf = true): Buffer {
  const out: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === CR) {
      out.push(CR, LF);
      if (input[i + 1] === LF) i++;
    } else if (byte === LF) {
      out.push(CR, LF);
    } else {
      out.push(byte);
    }
  }
  if (finalCrlf && out.length > 0 && !(out[out.length - 2] === CR && out[out.length - 1] === LF)) {
    out.push(CR, LF);
  }
  return Buffer.from(out);
}

function hasBareCrOrLf(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === CR && bytes[i + 1] !== LF) return true;
    if (bytes[i] === LF && bytes[i - 1] !== CR) return true;
  }
  return false;
}

const text = (b: Buffer) => b.toString('latin1');

// Bytes heavy in the ones that matter, so line ends and dots meet at chunk boundaries often.
const biasedByte = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(CR, LF, DOT, 0x00) },
  { weight: 1, arbitrary: fc.constantFrom(0x41, 0x20) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const biasedChunk = fc.array(biasedByte, { maxLength: 24 }).map((bytes) => Buffer.from(bytes));
const randomChunk = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes));
const chunks = fc.array(
  fc.oneof({ weight: 3, arbitrary: biasedChunk }, { weight: 1, arbitrary: randomChunk }),
  {
    maxLength: 12,
  },
);
// Text-like input (long runs between line ends, mixed line ends, leading dots) cut at random points.
const textLine = fc.tuple(
  fc.constantFrom('', '.', '..'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
  fc.constantFrom('\r\n', '\n', '\r', ''),
);
const textChunks = fc
  .tuple(fc.array(textLine, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 6 }))
  .map(([lines, cuts]) => {
    const whole = Buffer.from(lines.map((parts) => parts.join('')).join(''), 'latin1');
    const points = [...new Set(cuts.map((c) => (whole.length === 0 ? 0 : c % whole.length)))].sort(
      (a, b) => a - b,
    );
    const parts: Buffer[] = [];
    let from = 0;
    for (const point of points) {
      parts.push(whole.subarray(from, point));
      from = point;
    }
    parts.push(whole.subarray(from));
    return parts;
  });
const anyChunks = fc.oneof(chunks, textChunks);

describe('dotStuff', () => {
  test('an empty message is just the end-of-data line', () => {
    assert.equal(text(dotStuff('')), '.\r\n');
  });

  test('a message ending with CRLF gets ".\\r\\n"; one without gets "\\r\\n.\\r\\n"', () => {
    assert.equal(text(dotStuff('hi\r\n')), 'hi\r\n.\r\n');
    assert.equal(text(dotStuff('hi')), 'hi\r\n.\r\n');
  });

  test('doubles a dot at the start of every line, the first line included', () => {
    assert.equal(text(dotStuff('.a\r\nb\r\n.\r\n..c\r\n')), '..a\r\nb\r\n..\r\n...c\r\n.\r\n');
    assert.equal(text(dotStuff('.')), '..\r\n.\r\n');
    assert.equal(text(dotStuff('a.b\r\n')), 'a.b\r\n.\r\n');
  });

  test('turns bare CR and bare LF into CRLF', () => {
    assert.equal(text(dotStuff('a\nb\rc\r\nd')), 'a\r\nb\r\nc\r\nd\r\n.\r\n');
    assert.equal(text(dotStuff('\r\r\n')), '\r\n\r\n.\r\n');
    assert.equal(text(dotStuff('\n\r')), '\r\n\r\n.\r\n');
    assert.equal(text(dotStuff('\r')), '\r\n.\r\n');
    assert.equal(text(dotStuff('\n')), '\r\n.\r\n');
  });

  test('stuffs dots after bare line ends too (smuggling shapes)', () => {
    assert.equal(text(dotStuff('a\n.\nb')), 'a\r\n..\r\nb\r\n.\r\n');
    assert.equal(text(dotStuff('a\r.\rb')), 'a\r\n..\r\nb\r\n.\r\n');
    assert.equal(text(dotStuff('a\r\n.\rb')), 'a\r\n..\r\nb\r\n.\r\n');
    assert.equal(text(dotStuff('a\n.\r\nb')), 'a\r\n..\r\nb\r\n.\r\n');
  });

  test('keeps NUL and 8-bit bytes as they are', () => {
    const input = Buffer.from([0x00, 0xff, 0x80, LF, 0x00]);
    assert.deepEqual([...dotStuff(input)], [0x00, 0xff, 0x80, CR, LF, 0x00, CR, LF, DOT, CR, LF]);
  });

  test('encodes strings as UTF-8', () => {
    assert.equal(dotStuff('grüße').toString('utf8'), 'grüße\r\n.\r\n');
  });

  test('stuff: false only normalises line ends (for BDAT) and adds nothing', () => {
    assert.equal(text(dotStuff('.a\nb\r.', { stuff: false })), '.a\r\nb\r\n.');
    assert.equal(text(dotStuff('', { stuff: false })), '');
  });

  test('terminate: false leaves the end to the caller', () => {
    assert.equal(text(dotStuff('.a', { terminate: false })), '..a');
  });

  test('terminate without stuff is refused', () => {
    assert.throws(
      () => dotStuff('x', { stuff: false, terminate: true }),
      (e: unknown) => isPosternError(e) && e.code === 'EINVALID_ARGUMENT',
    );
  });
});

describe('DotStuffer stream', () => {
  const boundaries: [string, string[], string][] = [
    ['CR | LF', ['a\r', '\nb'], 'a\r\nb\r\n.\r\n'],
    ['CRLF | dot', ['a\r\n', '.b'], 'a\r\n..b\r\n.\r\n'],
    ['CR | LF dot', ['a\r', '\n.b'], 'a\r\n..b\r\n.\r\n'],
    ['CR | dot', ['a\r', '.b'], 'a\r\n..b\r\n.\r\n'],
    ['LF | dot', ['a\n', '.b'], 'a\r\n..b\r\n.\r\n'],
    ['CR | LF | dot', ['a\r', '\n', '.'], 'a\r\n..\r\n.\r\n'],
    ['CR | CR LF', ['a\r', '\r\n'], 'a\r\n\r\n.\r\n'],
    ['CR | LF LF', ['\r', '\n\n'], '\r\n\r\n.\r\n'],
    ['LF | LF', ['\n', '\n'], '\r\n\r\n.\r\n'],
    ['dot | dot', ['.', '.'], '...\r\n.\r\n'],
    ['ends with CR', ['a', '\r'], 'a\r\n.\r\n'],
    ['ends with CRLF split', ['a\r', '\n'], 'a\r\n.\r\n'],
    ['empty chunks', ['', 'a', '', '\r', '', '\n', '', '.', ''], 'a\r\n..\r\n.\r\n'],
    ['mid-line dot at boundary', ['ab', '.c'], 'ab.c\r\n.\r\n'],
  ];
  for (const [name, input, expected] of boundaries) {
    test(`chunk boundary: ${name}`, async () => {
      assert.equal(text(await throughStream(input)), expected);
      assert.equal(text(dotStuff(input.join(''))), expected);
    });
  }

  test('an empty stream gives ".\\r\\n"', async () => {
    assert.equal(text(await throughStream([])), '.\r\n');
  });

  test('counts octets in and out, the end-of-data line included', async () => {
    const stuffer = new DotStuffer();
    const out: Buffer[] = [];
    stuffer.on('data', (b: Buffer) => out.push(b));
    const done = new Promise((resolve) => stuffer.on('end', resolve));
    stuffer.write('.a\nb');
    stuffer.end();
    await done;
    assert.equal(stuffer.bytesIn, 4);
    assert.equal(stuffer.bytesOut, Buffer.concat(out).length);
    assert.equal(text(Buffer.concat(out)), '..a\r\nb\r\n.\r\n');
  });

  test('a chunk that needs no change is passed on without a copy', async () => {
    const stuffer = new DotStuffer();
    const seen: Buffer[] = [];
    stuffer.on('data', (b: Buffer) => seen.push(b));
    const first = Buffer.from('no line end in here');
    const second = Buffer.from(' and a proper line\r\nand more');
    stuffer.write(first);
    stuffer.write(second);
    stuffer.end();
    await new Promise((resolve) => stuffer.on('end', resolve));
    assert.equal(seen[0], first);
    assert.equal(seen[1], second);
  });

  test('works in a pipeline from a Readable', async () => {
    const source = Readable.from([Buffer.from('Subject: x\n\n'), Buffer.from('.hidden\n.')]);
    const out: Buffer[] = [];
    for await (const chunk of source.pipe(new DotStuffer())) out.push(chunk as Buffer);
    assert.equal(text(Buffer.concat(out)), 'Subject: x\r\n\r\n..hidden\r\n..\r\n.\r\n');
  });
});

describe('DotStuffer properties', () => {
  test('(a) any chunking gives the same bytes as one chunk', async () => {
    await fc.assert(
      fc.asyncProperty(anyChunks, async (parts) => {
        const whole = dotStuff(Buffer.concat(parts));
        const streamed = await throughStream(parts);
        assert.deepEqual(streamed, whole);
      }),
      { numRuns: 400 },
    );
  });

  test('(a) the same for stuff: false', async () => {
    await fc.assert(
      fc.asyncProperty(chunks, async (parts) => {
        const streamed = await throughStream(parts, { stuff: false });
        assert.deepEqual(streamed, dotStuff(Buffer.concat(parts), { stuff: false }));
        assert.deepEqual(streamed, normalise(Buffer.concat(parts), false));
      }),
      { numRuns: 200 },
    );
  });

  test('(b) an independent receiver gets the CRLF-normalised input back and finds the end only at the end', () => {
    fc.assert(
      fc.property(anyChunks, (parts) => {
        const input = Buffer.concat(parts);
        const wire = dotStuff(input);
        const { body, end } = unstuff(wire);
        assert.equal(end, wire.length, 'end of data found early or not at all');
        assert.deepEqual(body, normalise(input));
      }),
      { numRuns: 1000 },
    );
  });

  test('(c) the output never has a bare CR or bare LF', () => {
    fc.assert(
      fc.property(anyChunks, (parts) => {
        assert.equal(hasBareCrOrLf(dotStuff(Buffer.concat(parts))), false);
      }),
      { numRuns: 1000 },
    );
  });

  test('bytesIn and bytesOut match what went in and out', async () => {
    await fc.assert(
      fc.asyncProperty(chunks, async (parts) => {
        const stuffer = new DotStuffer();
        const out: Buffer[] = [];
        stuffer.on('data', (b: Buffer) => out.push(b));
        const done = new Promise((resolve) => stuffer.on('end', resolve));
        for (const part of parts) stuffer.write(part);
        stuffer.end();
        await done;
        assert.equal(stuffer.bytesIn, Buffer.concat(parts).length);
        assert.equal(stuffer.bytesOut, Buffer.concat(out).length);
      }),
      { numRuns: 100 },
    );
  });
});
