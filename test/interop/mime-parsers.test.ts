// Round trips through readers nobody here wrote: compose → Python's email package (policy.default) and
// mailparser (npm) → subject, addresses and display names, text, HTML, attachment names and the SHA-256
// of attachment bytes equal the input. Property-based over random Unicode (CJK, emoji, RTL, combining
// marks), long words and lines, empty and binary attachments, many attachments.
//
// Python runs once per batch (≈50 messages in one process); mailparser runs in-process with shrinking.
// SMTPUTF8 messages (raw UTF-8 header text, RFC 6532) go through Python only: mailparser guesses the
// charset of raw 8-bit header text and gets short UTF-8 values wrong.
// A failing batch prints its seed: POSTERN_MIME_SEED=<seed> replays it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { compose } from '../../src/mime/index.js';
import type { AddressObject, ComposeOptions, Message } from '../../src/mime/message.js';
import { peerSkip, SYSTEM_PYTHON } from '../helpers/peers.js';
import { message, utf8Message } from '../unit/mime/arbitraries.js';
import { assertWellFormed, bytesOf } from '../unit/mime/support.js';

const PARSE_EMAIL = join(import.meta.dirname, '../helpers/parse_email.py');
const skipPython = peerSkip('python3');
const SEED = process.env['POSTERN_MIME_SEED']
  ? Number(process.env['POSTERN_MIME_SEED'])
  : Date.now() % 2 ** 31;

// ---------------------------------------------------------------------------------------------------
// What a reader should give back

interface Parsed {
  subject: string | undefined;
  from: { name: string; address: string }[];
  to: { name: string; address: string }[];
  cc: { name: string; address: string }[];
  text: string | undefined;
  html: string | undefined;
  attachments: { filename: string | undefined; sha256: string }[];
}

/** An address with its domain as A-labels: readers give IDN domains in either form. */
function headerForm(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${new URL(`http://${address.slice(at + 1)}`).hostname}`;
}

const lineEnds = (text: string) => text.replace(/\r\n|\r/g, '\n');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function expected(m: Message): Parsed {
  const list = (v: unknown) => (v === undefined ? [] : (v as AddressObject[]));
  const addresses = (v: unknown) =>
    list(v).map((a) => ({ name: a.name ?? '', address: headerForm(a.address) }));
  return {
    subject: (m.subject as string).replace(/^[ \t]+|[ \t]+$/g, ''),
    from: addresses([m.from]),
    to: addresses(m.to),
    cc: addresses(m.cc),
    text: m.text === undefined ? undefined : lineEnds(m.text as string),
    html: m.html === undefined ? undefined : lineEnds(m.html as string),
    attachments: (m.attachments ?? []).map((a) => ({
      filename: a.filename as string,
      sha256: sha256(a.content as Buffer),
    })),
  };
}

/** A single-part body gets the CRLF that ends every message; a reader may keep it. */
function sameBody(actual: string | undefined, want: string | undefined, label: string): void {
  // mailparser reports an empty body as missing.
  if (want === undefined || (want === '' && !actual)) return;
  assert.ok(actual !== undefined, `${label} is missing`);
  const got = lineEnds(actual);
  assert.ok(
    got === want || got === `${want}\n`,
    `${label} differs:\n${JSON.stringify(got).slice(0, 400)}\nwant\n${JSON.stringify(want).slice(0, 400)}`,
  );
}

/**
 * Readers change whitespace in display names: mailparser trims them and collapses runs; Python 3.11 also
 * collapses runs inside encoded words and puts a space between adjacent encoded words of a display name,
 * against RFC 2047 §6.2 (CPython gh-128110, fixed in later versions). The bytes keep names exactly (see the
 * unit tests and the mailparser comparison); for Python, names are compared without whitespace.
 */
type Normalise = (name: string) => string;
const collapse: Normalise = (name) => name.replace(/[ \t]+/g, ' ').trim();
const noSpaces: Normalise = (name) => name.replace(/[ \t]+/g, '');

function names(list: readonly { name: string; address: string }[], normalise: Normalise) {
  return list.map((a) => ({ name: normalise(a.name), address: a.address }));
}

function compare(actual: Parsed, want: Parsed, reader: 'python' | 'mailparser'): void {
  const normalise = reader === 'python' ? noSpaces : collapse;
  // mailparser unfolds "CRLF TAB" to a space (RFC 5322 §2.2.3 keeps the tab).
  const subject = (text: string) => (reader === 'mailparser' ? text.replace(/\t/g, ' ') : text);
  assert.equal(subject(actual.subject ?? ''), subject(want.subject ?? ''), `${reader}: subject`);
  assert.deepEqual(names(actual.from, normalise), names(want.from, normalise), `${reader}: from`);
  assert.deepEqual(names(actual.to, normalise), names(want.to, normalise), `${reader}: to`);
  assert.deepEqual(names(actual.cc, normalise), names(want.cc, normalise), `${reader}: cc`);
  sameBody(actual.text, want.text, `${reader}: text`);
  sameBody(actual.html, want.html, `${reader}: html`);
  assert.deepEqual(actual.attachments, want.attachments, `${reader}: attachments`);
}

// ---------------------------------------------------------------------------------------------------
// Readers

interface PythonResult {
  error?: string;
  subject: string | null;
  from: PythonAddresses | null;
  to: PythonAddresses | null;
  cc: PythonAddresses | null;
  text: string | null;
  html: string | null;
  attachments: { filename: string | null; sha256: string; content_type: string }[];
  defects: string[];
}
type PythonAddresses = {
  groups: { group: string | null; addresses: { name: string; address: string }[] }[];
  defects: string[];
};

function parseWithPython(paths: readonly string[]): PythonResult[] {
  const run = spawnSync(SYSTEM_PYTHON, [PARSE_EMAIL], {
    input: paths.join('\n'),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PythonResult);
}

/**
 * The RFC 2047 words in Content-Type's name= are there on purpose, for Outlook and old Thunderbird
 * (parameters.ts); Python notes them as defects and reads the RFC 2231 filename* instead.
 */
const LEGACY_NAME =
  /^Content-Type: InvalidHeaderDefect: (encoded word inside quoted string|missing trailing whitespace after encoded-word)$/;
/** policy.default is not an SMTPUTF8 policy: it reads UTF-8 header text right but notes it (RFC 6532). */
const UTF8_HEADER =
  /^[\w-]+: (UndecodableBytesDefect: Non-ASCII characters found in header token|NonASCIILocalPartDefect)/;

function fromPython(result: PythonResult, smtpUtf8: boolean): Parsed {
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(
    result.defects.filter((d) => !LEGACY_NAME.test(d) && !(smtpUtf8 && UTF8_HEADER.test(d))),
    [],
    'Python found no defects',
  );
  const flat = (a: PythonAddresses | null) =>
    a
      ? a.groups.flatMap((g) => g.addresses.map((v) => ({ name: v.name, address: headerForm(v.address) })))
      : [];
  return {
    subject: result.subject ?? undefined,
    from: flat(result.from),
    to: flat(result.to),
    cc: flat(result.cc),
    text: result.text ?? undefined,
    html: result.html ?? undefined,
    attachments: result.attachments.map((a) => ({ filename: a.filename ?? undefined, sha256: a.sha256 })),
  };
}

/** Python's get_filename() strips surrounding whitespace from file names. */
function asPythonReads(want: Parsed): Parsed {
  return { ...want, attachments: want.attachments.map((a) => ({ ...a, filename: a.filename?.trim() })) };
}

async function parseWithMailparser(bytes: Buffer): Promise<Parsed> {
  const parsed = await simpleParser(bytes, {
    skipImageLinks: true,
    skipTextLinks: true,
    skipHtmlToText: true,
  });
  const addresses = (field: typeof parsed.to) =>
    (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) =>
      // mailparser shows IDN domains in Unicode; compare their A-label form.
      a.value.map((v) => ({ name: v.name, address: headerForm(v.address ?? '') })),
    );
  return {
    subject: parsed.subject,
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    text: parsed.text,
    html: parsed.html === false ? undefined : parsed.html,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename, sha256: sha256(a.content) })),
  };
}

// ---------------------------------------------------------------------------------------------------

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'postern-mime-parsers-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function composeAll(messages: readonly Message[], options?: ComposeOptions): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, m] of messages.entries()) {
    const composed = await compose(m, options);
    const bytes = await bytesOf(composed);
    assertWellFormed(bytes);
    assert.equal(composed.size, bytes.length);
    const path = join(dir, `${SEED}-${i}.eml`);
    await writeFile(path, bytes);
    paths.push(path);
  }
  return paths;
}

function checkBatch(messages: readonly Message[], results: readonly PythonResult[], smtpUtf8 = false): void {
  assert.equal(results.length, messages.length);
  messages.forEach((m, i) => {
    try {
      compare(fromPython(results[i]!, smtpUtf8), asPythonReads(expected(m)), 'python');
    } catch (err) {
      process.stderr.write(
        `seed ${SEED}, message ${i}: ${JSON.stringify(m, (_, v) => (v?.type === 'Buffer' ? `<${v.data.length} bytes>` : v)).slice(0, 3000)}\n`,
      );
      throw err;
    }
  });
}

describe('round trip through Python email (policy.default)', { skip: skipPython }, () => {
  test(`random messages, one batch (seed ${SEED})`, async () => {
    const messages = fc.sample(message, { numRuns: 50, seed: SEED });
    checkBatch(messages, parseWithPython(await composeAll(messages)));
  });

  test(`random messages with 8BITMIME (seed ${SEED + 1})`, async () => {
    const messages = fc.sample(message, { numRuns: 25, seed: SEED + 1 });
    checkBatch(messages, parseWithPython(await composeAll(messages, { eightBitMime: true })));
  });

  test(`random messages with SMTPUTF8: UTF-8 header text and local parts go raw (seed ${SEED + 2})`, async () => {
    const messages = fc.sample(utf8Message, { numRuns: 25, seed: SEED + 2 });
    checkBatch(
      messages,
      parseWithPython(await composeAll(messages, { smtpUtf8: true, eightBitMime: true })),
      true,
    );
  });

  test('the Chinese cases, named explicitly', async () => {
    const messages: Message[] = [
      {
        from: { name: '张三', address: 'zhang@example.cn' },
        to: [{ name: '李四（财务部）', address: 'li@example.cn' }],
        subject: '关于二〇二六年第一季度财务报告的测试与审计意见以及后续工作安排的通知',
        text: '各位同事：\n\n附件是测试报告，请查收。\n',
        attachments: [
          { filename: '测试报告.pdf', content: Buffer.from('%PDF-1.4 测试') },
          { filename: `${'很长的文件名'.repeat(12)}.xlsx`, content: Buffer.alloc(0) },
        ],
      },
    ];
    const paths = await composeAll(messages);
    checkBatch(messages, parseWithPython(paths));
    const [result] = parseWithPython(paths);
    assert.deepEqual(
      result!.attachments.map((a) => a.content_type),
      ['application/pdf', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    );
  });

  test('many attachments (100)', async () => {
    const messages: Message[] = [
      {
        from: { name: '', address: 'a@example.com' },
        to: [{ name: '', address: 'b@example.com' }],
        subject: 'many',
        text: 'see attached',
        attachments: Array.from({ length: 100 }, (_, i) => ({
          filename: `文件${i}.bin`,
          content: Buffer.alloc(i * 37, i),
        })),
      },
    ];
    checkBatch(messages, parseWithPython(await composeAll(messages)));
  });
});

describe('round trip through mailparser', () => {
  test('random messages (property, with shrinking)', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const bytes = await bytesOf(await compose(m));
        compare(await parseWithMailparser(bytes), expected(m), 'mailparser');
      }),
      { numRuns: 60, seed: SEED },
    );
  });

  test('the Chinese file name, and a name both readers must take from RFC 2231', async () => {
    const bytes = await bytesOf(
      await compose({
        from: 'a@example.com',
        to: 'b@example.com',
        attachments: [{ filename: '测试报告.pdf', content: 'x' }],
      }),
    );
    const parsed = await simpleParser(bytes);
    assert.equal(parsed.attachments[0]?.filename, '测试报告.pdf');
    assert.equal(parsed.attachments[0]?.contentType, 'application/pdf');
  });
});
