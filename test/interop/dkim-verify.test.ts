// Our DKIM signatures checked by a verifier nobody here wrote: python3-dkim (Debian), with the public keys
// served by a dnsfunc. Covers rsa-sha256 and ed25519-sha256, every canonicalization, MIME messages with
// attachments, dual signatures, tampering, and a 200 MB message signed in flat memory.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { createCipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DkimBodyHasher,
  type DkimCanonicalization,
  type DkimOptions,
  dkimSign,
} from '../../src/mime/dkim/index.js';
import { dkimRecord, pythonDkimVerify } from '../helpers/dkim-verify.js';
import { peerSkip, SYSTEM_PYTHON } from '../helpers/peers.js';

const skip = peerSkip('dkim');

const DOMAIN = 'example.com';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');

const RECORDS = {
  [`rsa._domainkey.${DOMAIN}.`]: dkimRecord(rsa.publicKey),
  [`ed._domainkey.${DOMAIN}.`]: dkimRecord(ed.publicKey),
};

function pythonVerify(message: Buffer | Readable) {
  return pythonDkimVerify(message, RECORDS);
}

function options(kind: 'rsa' | 'ed', overrides: Partial<DkimOptions> = {}): DkimOptions {
  return {
    domainName: DOMAIN,
    keySelector: kind,
    privateKey: kind === 'rsa' ? rsa.privateKey : ed.privateKey,
    ...overrides,
  };
}

async function signed(message: Buffer, sets: DkimOptions | DkimOptions[]): Promise<Buffer> {
  const stream = await dkimSign(() => Readable.from([message]), sets);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function base64Lines(bytes: Buffer): string {
  return `${bytes.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '')}\r\n`;
}

/** A hand-built multipart/mixed message: text + html alternative, a PDF-like and a CJK-named attachment. */
function mimeMessage(): Buffer {
  const subject = Buffer.from('报告 — résumé 📎', 'utf8').toString('base64');
  return Buffer.from(
    [
      'From: =?UTF-8?Q?=C3=85lice?= <alice@example.com>',
      'To: Bob <bob@example.org>',
      'Cc: carol@example.net',
      `Subject: =?UTF-8?B?${subject}?=`,
      'Date: Tue, 04 Mar 2025 05:06:07 +0000',
      'Message-ID: <interop.1@example.com>',
      'X-Mailer: Postern interop test',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed;',
      ' boundary="=_mixed"',
      '',
      'This is a multi-part message in MIME format.',
      '',
      '--=_mixed',
      'Content-Type: multipart/alternative; boundary="=_alt"',
      '',
      '--=_alt',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Hello  Bob,=20',
      'tabs\tand   spaces  ',
      'caf=C3=A9',
      '',
      '--=_alt',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<p>Hello <b>Bob</b></p>',
      '--=_alt--',
      '',
      '--=_mixed',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      `${base64Lines(randomBytes(30_000))}--=_mixed`,
      "Content-Type: image/png; name*=utf-8''%E5%9B%BE.png",
      "Content-Disposition: attachment; filename*=utf-8''%E5%9B%BE.png",
      'Content-Transfer-Encoding: base64',
      '',
      `${base64Lines(randomBytes(5_000))}--=_mixed--`,
      '',
      '',
    ].join('\r\n'),
    'utf8',
  );
}

const CANONICALIZATIONS: DkimCanonicalization[] = [
  'relaxed/relaxed',
  'simple/simple',
  'relaxed/simple',
  'simple/relaxed',
];

/** Replaces the first occurrence of `from` after the signature fields (so only the message changes). */
function tamper(message: Buffer, from: string, to: string): Buffer {
  const text = message.toString('latin1');
  const start = text.indexOf('\r\nFrom:');
  const at = text.indexOf(from, start);
  assert.ok(at !== -1, `"${from}" not found`);
  return Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1');
}

/** Changes the byte right after `marker` to another base64 character. */
function changeByteAfter(message: Buffer, marker: string): Buffer {
  const at = message.indexOf(marker) + marker.length;
  assert.ok(at >= marker.length, `"${marker}" not found`);
  const copy = Buffer.from(message);
  copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
  return copy;
}

describe('python3-dkim verifies our signatures', { skip }, () => {
  test('a 200 MB message is signed with RSS growth under 64 MB, and both signatures verify', {
    timeout: 180_000,
  }, async (t) => {
    const total = 200 * 1024 * 1024;
    /** Deterministic base64 lines from AES-CTR, so both passes of dkimSign read the same bytes. */
    function* message(): Generator<Buffer> {
      yield Buffer.from(
        'From: big@example.com\r\nTo: bob@example.org\r\nSubject: large\r\nMIME-Version: 1.0\r\n' +
          'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
      );
      const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 9));
      const zeros = Buffer.alloc(57 * 1024);
      for (let sent = 0; sent < total; sent += 78 * 1024) {
        const raw = cipher.update(zeros);
        const lines = Buffer.allocUnsafe(78 * 1024);
        for (let i = 0, o = 0; i < raw.length; i += 57, o += 78) {
          lines.write(raw.toString('base64', i, i + 57), o, 'latin1');
          lines[o + 76] = 0x0d;
          lines[o + 77] = 0x0a;
        }
        yield lines;
      }
    }
    const baseline = process.memoryUsage().rss;
    let peak = 0;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().rss - baseline);
    };
    const timer = setInterval(sample, 10);
    const started = performance.now();
    try {
      const stream = await dkimSign(
        () => Readable.from(message()),
        [options('rsa'), options('ed', { canonicalization: 'simple/simple' })],
      );
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          sample();
          callback(null, chunk);
        },
      });
      const verdicts = await pythonVerify(stream.pipe(meter));
      t.diagnostic(
        `${(bytes / 1e6).toFixed(0)} MB signed and verified in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
          `peak RSS growth ${(peak / 1e6).toFixed(1)} MB`,
      );
      assert.ok(bytes > total);
      assert.deepEqual(verdicts, [
        { ok: true, error: null },
        { ok: true, error: null },
      ]);
    } finally {
      clearInterval(timer);
    }
    assert.ok(peak < 64 * 1024 * 1024, `RSS grew by ${(peak / 1e6).toFixed(1)} MB`);
  });

  const message = mimeMessage();
  for (const kind of ['rsa', 'ed'] as const) {
    for (const canonicalization of CANONICALIZATIONS) {
      test(`${kind === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256'} ${canonicalization}: verifies; a changed body or signed field fails`, async () => {
        const out = await signed(message, options(kind, { canonicalization }));
        assert.deepEqual(await pythonVerify(out), [{ ok: true, error: null }]);
        // One byte in the attachment's base64.
        const body = await pythonVerify(
          changeByteAfter(out, 'filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'),
        );
        assert.equal(body[0]?.ok, false);
        assert.match(body[0]?.error ?? '', /body hash mismatch/);
        // One byte in a signed header field.
        assert.equal((await pythonVerify(tamper(out, 'Cc: carol@', 'Cc: karol@')))[0]?.ok, false);
        // An unsigned field may change.
        assert.equal((await pythonVerify(tamper(out, 'Postern interop', 'Postern-interop')))[0]?.ok, true);
      });
    }
  }

  test('dual signatures (rsa-sha256 and ed25519-sha256, RFC 8463 §4) both verify, with i= and x=', async () => {
    const out = await signed(message, [
      options('rsa', { identity: 'alice@example.com', expiresIn: 86400 }),
      options('ed', { identity: '@mail.example.com', canonicalization: 'relaxed/simple' }),
    ]);
    assert.deepEqual(await pythonVerify(out), [
      { ok: true, error: null },
      { ok: true, error: null },
    ]);
    const broken = await pythonVerify(tamper(out, '<p>Hello', '<p>Hallo'));
    assert.deepEqual(
      broken.map((v) => v.ok),
      [false, false],
    );
  });

  test('relaxed body survives added trailing whitespace; simple does not', async () => {
    const out = await signed(message, [options('rsa'), options('ed', { canonicalization: 'simple/simple' })]);
    const padded = tamper(out, '<p>Hello <b>Bob</b></p>\r\n', '<p>Hello <b>Bob</b></p>  \t\r\n');
    assert.deepEqual(
      (await pythonVerify(padded)).map((v) => v.ok),
      [true, false],
    );
  });

  test('a From added after signing breaks the signature', async () => {
    const out = await signed(message, options('ed'));
    const added = tamper(out, 'To: Bob', 'From: mallory@evil.example\r\nTo: Bob');
    assert.equal((await pythonVerify(added))[0]?.ok, false);
  });

  test('a source with bare LF line ends is emitted as CRLF and verifies', async () => {
    const lf = Buffer.from(message.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const out = await signed(lf, [options('rsa', { canonicalization: 'simple/simple' }), options('ed')]);
    assert.equal(out.includes('\n\n'), false);
    assert.deepEqual(
      (await pythonVerify(out)).map((v) => v.ok),
      [true, true],
    );
  });

  test('body hashes equal python3-dkim canonicalization on random bodies', async () => {
    const line = fc
      .array(fc.constantFrom(' ', '\t', '  ', 'a', 'Zz', '=', '\u00e9', '\u4e2d', 'QUJD'), { maxLength: 12 })
      .map((p) => p.join(''));
    // Lines end in CRLF; a last line without CRLF has no trailing whitespace (on such a line python3-dkim
    // keeps it, while after SMTP transfer — which adds the CRLF — everyone drops it).
    const body = fc
      .tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('', 'end', '\r\n', ' \r\n\t\r\n'))
      .map(([lines, last]) => Buffer.from(lines.map((l) => `${l}\r\n`).join('') + last, 'utf8'));
    const bodies = fc.sample(body, { numRuns: 300, seed: 6376 });
    const script = `
import sys, json, base64, hashlib
from dkim.canonicalization import Simple, Relaxed
bodies = [base64.b64decode(b) for b in json.load(sys.stdin)]
h = lambda b: base64.b64encode(hashlib.sha256(b).digest()).decode()
print(json.dumps([[h(Simple.canonicalize_body(b)), h(Relaxed.canonicalize_body(b))] for b in bodies]))
`;
    const child = spawn(SYSTEM_PYTHON, ['-c', script]);
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stdin.end(JSON.stringify(bodies.map((b) => b.toString('base64'))));
    await new Promise((resolve) => child.on('close', resolve));
    const expected = JSON.parse(Buffer.concat(out).toString()) as [string, string][];
    for (const [i, b] of bodies.entries()) {
      const ours: string[] = [];
      for (const kind of ['simple', 'relaxed'] as const) {
        const hasher = new DkimBodyHasher(kind, 'sha256');
        await new Promise<void>((resolve) => hasher.end(b, resolve));
        ours.push(hasher.digest().toString('base64'));
      }
      assert.deepEqual(ours, expected[i], JSON.stringify(b.toString('utf8')));
    }
  });
});
