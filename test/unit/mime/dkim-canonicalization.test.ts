import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type BodyCanonicalization,
  createBodyCanonicalizer,
} from '../../../src/mime/dkim/body-canonicalization.js';
import {
  canonicalizeHeaderField,
  parseHeaderFields,
  selectSignedFields,
} from '../../../src/mime/dkim/header-fields.js';
import { DkimBodyHasher } from '../../../src/mime/dkim/index.js';
import { CrlfNormalizer, normalizeLineEnds } from '../../../src/mime/dkim/line-endings.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

/**
 * Reference canonicalisers, written as RFC 6376 §3.4.3/§3.4.4 read, over the whole body at once:
 * line ends normalised, the body cut into an array of lines, the rules applied line by line.
 */
function refNormalise(body: string): string {
  return body.replace(/\r\n|\r|\n/g, '\r\n');
}

function refSimple(body: string): string {
  return `${refNormalise(body).replace(/(\r\n)+$/, '')}\r\n`;
}

function refRelaxed(body: string): string {
  const lines = refNormalise(body).split('\r\n');
  // The element after the last CRLF is an unterminated line ('' when the body ends with CRLF).
  const canonical = lines.map((line) => line.replace(/[ \t]+$/, '').replace(/[ \t]+/g, ' '));
  while (canonical.length > 0 && canonical[canonical.length - 1] === '') canonical.pop();
  return canonical.length === 0 ? '' : `${canonical.join('\r\n')}\r\n`;
}

const reference = { simple: refSimple, relaxed: refRelaxed } as const;

/** Runs the streaming engine over the given chunks, collecting its output. */
function canonicalise(kind: BodyCanonicalization, chunks: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  const normalizer = new CrlfNormalizer();
  const body = createBodyCanonicalizer(kind, (bytes) => out.push(Buffer.from(bytes)));
  for (const chunk of chunks) body.update(normalizer.push(chunk));
  body.update(normalizer.end());
  body.finish();
  return Buffer.concat(out);
}

async function bodyHash(kind: BodyCanonicalization, chunks: readonly Buffer[]): Promise<Buffer> {
  const hasher = new DkimBodyHasher(kind, 'sha256');
  for (const chunk of chunks) hasher.write(chunk);
  await new Promise<void>((resolve, reject) => {
    hasher.once('error', reject);
    hasher.end(resolve);
  });
  return hasher.digest();
}

function split(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(data.subarray(from, p));
    from = p;
  }
  chunks.push(data.subarray(from));
  return chunks;
}

describe('RFC 6376 §3.4.5 canonicalization examples', () => {
  const headers = latin1('A: X\r\nB : Y\t\r\n\tZ  \r\n');
  const body = latin1(' C \r\nD \t E\r\n\r\n\r\n');

  test('relaxed headers: "a:X" and "b:Y Z"', () => {
    const fields = parseHeaderFields(headers);
    assert.deepEqual(
      fields.map((f) => canonicalizeHeaderField(f.raw, 'relaxed').toString('latin1')),
      ['a:X\r\n', 'b:Y Z\r\n'],
    );
  });

  test('simple headers: unchanged', () => {
    const fields = parseHeaderFields(headers);
    assert.deepEqual(
      fields.map((f) => canonicalizeHeaderField(f.raw, 'simple').toString('latin1')),
      ['A: X\r\n', 'B : Y\t\r\n\tZ  \r\n'],
    );
  });

  test('relaxed body: " C" and "D E", trailing empty lines gone', async () => {
    assert.equal(canonicalise('relaxed', [body]).toString('latin1'), ' C\r\nD E\r\n');
    assert.deepEqual(await bodyHash('relaxed', [body]), sha256(latin1(' C\r\nD E\r\n')));
  });

  test('simple body: whitespace kept, trailing empty lines gone', async () => {
    assert.equal(canonicalise('simple', [body]).toString('latin1'), ' C \r\nD \t E\r\n');
    assert.deepEqual(await bodyHash('simple', [body]), sha256(latin1(' C \r\nD \t E\r\n')));
  });
});

describe('empty bodies (RFC 6376 §3.4.3, §3.4.4)', () => {
  test('simple: the empty body is CRLF', async () => {
    for (const body of ['', '\r\n', '\r\n\r\n\r\n']) {
      const hash = await bodyHash('simple', [latin1(body)]);
      assert.equal(
        hash.toString('base64'),
        'frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=',
        JSON.stringify(body),
      );
    }
  });

  test('relaxed: the empty body (or only blank and whitespace lines) is nothing', async () => {
    for (const body of ['', '\r\n', ' \t \r\n\r\n  \r\n', '   ']) {
      const hash = await bodyHash('relaxed', [latin1(body)]);
      assert.equal(
        hash.toString('base64'),
        '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
        JSON.stringify(body),
      );
    }
  });
});

describe('body edge cases', () => {
  const cases: [string, string, string][] = [
    // input, simple, relaxed
    ['abc', 'abc\r\n', 'abc\r\n'],
    ['abc  ', 'abc  \r\n', 'abc\r\n'],
    ['a\r\n\r\nb\r\n', 'a\r\n\r\nb\r\n', 'a\r\n\r\nb\r\n'],
    ['a\r\n  \r\nb\r\n', 'a\r\n  \r\nb\r\n', 'a\r\n\r\nb\r\n'],
    ['\tlead\r\n', '\tlead\r\n', ' lead\r\n'],
    ['x \t y\t\r\n \r\n\t\r\n', 'x \t y\t\r\n \r\n\t\r\n', 'x y\r\n'],
    ['\r\n\r\nlate\r\n', '\r\n\r\nlate\r\n', '\r\n\r\nlate\r\n'],
    ['a\nb\n\n', 'a\r\nb\r\n', 'a\r\nb\r\n'],
    ['a\rb\r\r', 'a\r\nb\r\n', 'a\r\nb\r\n'],
    ['a\n\rb', 'a\r\n\r\nb\r\n', 'a\r\n\r\nb\r\n'],
    ['caf\xe9 \xa0x', 'caf\xe9 \xa0x\r\n', 'caf\xe9 \xa0x\r\n'],
  ];
  for (const [input, simple, relaxed] of cases) {
    test(JSON.stringify(input), () => {
      assert.equal(canonicalise('simple', [latin1(input)]).toString('latin1'), simple);
      assert.equal(canonicalise('relaxed', [latin1(input)]).toString('latin1'), relaxed);
      assert.equal(refSimple(input), simple, 'reference simple');
      assert.equal(refRelaxed(input), relaxed, 'reference relaxed');
    });
  }

  test('many held empty lines between paragraphs are written back', () => {
    const input = `a${'\r\n'.repeat(10_000)}b\r\n`;
    for (const kind of ['simple', 'relaxed'] as const) {
      const chunks = split(latin1(input), [1, 5, 9_000, 15_000]);
      assert.equal(canonicalise(kind, chunks).toString('latin1'), input);
    }
  });
});

describe('chunk boundaries (property)', () => {
  const piece = fc.constantFrom(
    ' ',
    '\t',
    '\r',
    '\n',
    '\r\n',
    'a',
    'bc',
    '  ',
    ' \t ',
    'x y',
    '\xe9',
    '\xa0',
    '=',
    'QUJD',
  );
  const body = fc.array(piece, { maxLength: 80 }).map((parts) => parts.join(''));
  const cuts = fc.array(fc.nat(), { maxLength: 12 });

  for (const kind of ['simple', 'relaxed'] as const) {
    test(`${kind}: any split gives the reference canonical form`, () => {
      fc.assert(
        fc.property(body, cuts, (text, at) => {
          const output = canonicalise(kind, split(latin1(text), at));
          assert.equal(output.toString('latin1'), reference[kind](text));
        }),
        { numRuns: 2000 },
      );
    });

    test(`${kind}: any split gives the same body hash as one chunk`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), cuts, async (bytes, at) => {
          const data = Buffer.from(bytes);
          const whole = await bodyHash(kind, [data]);
          assert.deepEqual(await bodyHash(kind, split(data, at)), whole);
          assert.deepEqual(whole, sha256(latin1(reference[kind](data.toString('latin1')))));
        }),
        { numRuns: 500 },
      );
    });
  }

  test('one byte at a time equals one chunk', () => {
    const text = ' Hello  world \t\r\n\r\n\tindented\ttabs \r\n \r\nlast  \r\n\r\n';
    const bytes = latin1(text);
    const single = [...bytes].map((b) => Buffer.from([b]));
    for (const kind of ['simple', 'relaxed'] as const) {
      assert.equal(canonicalise(kind, single).toString('latin1'), reference[kind](text));
    }
  });
});

describe('CRLF normaliser', () => {
  test('any split gives bare CR and LF as CRLF, CRLF unchanged', () => {
    const text = fc
      .array(fc.constantFrom('\r', '\n', '\r\n', 'a', 'bc', '\n\r'), { maxLength: 60 })
      .map((p) => p.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 8 }), (input, at) => {
        const normalizer = new CrlfNormalizer();
        const out: Buffer[] = split(latin1(input), at).map((c) => Buffer.from(normalizer.push(c)));
        out.push(normalizer.end());
        assert.equal(Buffer.concat(out).toString('latin1'), refNormalise(input));
      }),
      { numRuns: 2000 },
    );
  });

  test('a clean chunk comes back without a copy; a final CR waits for the next chunk', () => {
    const normalizer = new CrlfNormalizer();
    const clean = latin1('line one\r\nline two\r\n');
    assert.equal(normalizer.push(clean), clean);
    assert.equal(normalizer.push(latin1('tail\r')).toString('latin1'), 'tail');
    assert.equal(normalizer.push(latin1('\nnext')).toString('latin1'), '\r\nnext');
    assert.equal(normalizeLineEnds(latin1('a\rb\nc\r')).toString('latin1'), 'a\r\nb\r\nc\r\n');
  });
});

describe('header fields', () => {
  test('relaxed canonicalisation keeps UTF-8 bytes (no Unicode whitespace trimming)', () => {
    const raw = Buffer.from('Subject:  \u00a0caf\u00e9  \u00a0 \r\n', 'utf8');
    const expected = Buffer.concat([
      latin1('subject:'),
      Buffer.from('\u00a0caf\u00e9 \u00a0', 'utf8'),
      latin1('\r\n'),
    ]);
    assert.deepEqual(canonicalizeHeaderField(raw, 'relaxed'), expected);
  });

  test('repeated names are selected from the bottom; extra entries select nothing', () => {
    const fields = parseHeaderFields(latin1('Received: 1\r\nFrom: a\r\nreceived: 2\r\nRECEIVED: 3\r\n'));
    const picked = selectSignedFields(fields, [
      'received',
      'from',
      'received',
      'from',
      'received',
      'received',
    ]);
    assert.deepEqual(
      picked.map((f) => f?.raw.toString('latin1')),
      ['RECEIVED: 3\r\n', 'From: a\r\n', 'received: 2\r\n', undefined, 'Received: 1\r\n', undefined],
    );
  });

  test('malformed header sections are rejected with InputError', () => {
    for (const bad of [
      ' folded first\r\n',
      'no colon here\r\nFrom: a\r\n',
      'From: a\r\n\r\nTo: b\r\n',
      'From: a',
    ]) {
      assert.throws(
        () => parseHeaderFields(latin1(bad)),
        { name: 'InputError', code: 'EINVALID_ARGUMENT' },
        bad,
      );
    }
  });
});

/**
 * RFC 8463 Appendix A: the example message with an ed25519-sha256 simple/simple signature (from
 * python3-dkim's test data, rfc6376.signed.msg) and the RFC's public key. Checks bh= and that the header
 * hash built from our canonicalisation and field selection verifies the published signature. (The
 * signature lines end in "; " before each fold, as in that file.)
 */
describe('RFC 8463 Appendix A example', () => {
  const signature =
    'DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; \r\n' +
    ' d=football.example.com; i=@football.example.com; \r\n' +
    ' q=dns/txt; s=brisbane; t=1518460054; h=from : to : \r\n' +
    ' subject : date : message-id : from : subject : date; \r\n' +
    ' bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \r\n' +
    ' b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB\r\n' +
    ' o0wBLR++X5LqmsxXaOYLLJe46l10AQ==\r\n';
  const headers =
    'From: Joe SixPack <joe@football.example.com>\r\n' +
    'To: Suzie Q <suzie@shopping.example.net>\r\n' +
    'Subject: Is dinner ready?\r\n' +
    'Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n' +
    'Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n';
  const body = 'Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n';
  const publicKey = createPublicKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      x: Buffer.from('11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=', 'base64').toString('base64url'),
    },
    format: 'jwk',
  });

  test('simple body hash matches bh=', async () => {
    assert.equal(
      (await bodyHash('simple', [latin1(body)])).toString('base64'),
      '4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=',
    );
  });

  test('the header hash verifies the published Ed25519 signature', () => {
    const fields = parseHeaderFields(latin1(signature + headers));
    const names = ['from', 'to', 'subject', 'date', 'message-id', 'from', 'subject', 'date'];
    const own = fields[0]!.raw.toString('latin1');
    const b = own.slice(own.indexOf(' b=') + 3).replace(/\s+/g, '');
    const ownWithoutB = own.slice(0, own.indexOf(' b=') + 3);
    const data = Buffer.concat([
      ...selectSignedFields(fields, names).flatMap((f) =>
        f ? [canonicalizeHeaderField(f.raw, 'simple')] : [],
      ),
      latin1(ownWithoutB),
    ]);
    assert.ok(verify(null, sha256(data), publicKey, Buffer.from(b, 'base64')));
    const tampered = Buffer.from(data);
    tampered[10] = tampered[10]! ^ 1;
    assert.ok(!verify(null, sha256(tampered), publicKey, Buffer.from(b, 'base64')));
  });
});
