import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtemp, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compose } from '../../../src/mime/index.js';
import type { Message } from '../../../src/mime/message.js';
import { assertWellFormed, BASE, bytesOf, fieldValue, headerBlock, rejectsWith, render } from './support.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'postern-compose-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function contentTypes(text: string): string[] {
  return [...text.matchAll(/^Content-Type: ([^;\r\n]+)/gm)].map((m) => m[1]!);
}

describe('structure', () => {
  test('text only is a single text/plain part', async () => {
    const { text } = await render({ ...BASE, text: 'Hello' });
    assert.deepEqual(contentTypes(text), ['text/plain']);
    assert.match(
      text,
      /\r\nMIME-Version: 1\.0\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nHello\r\n$/,
    );
  });

  test('text and HTML are multipart/alternative, text first', async () => {
    const { text } = await render({ ...BASE, text: 'Hi', html: '<b>Hi</b>' });
    assert.deepEqual(contentTypes(text), ['multipart/alternative', 'text/plain', 'text/html']);
  });

  test('cid images go into multipart/related around the HTML; attachments into multipart/mixed outermost', async () => {
    const { text } = await render({
      ...BASE,
      text: 'Hi',
      html: '<img src="cid:logo@x">',
      attachments: [
        { filename: 'logo.png', content: Buffer.from([1, 2, 3]), cid: 'logo@x' },
        { filename: 'report.pdf', content: 'pdf' },
      ],
    });
    assert.deepEqual(contentTypes(text), [
      'multipart/mixed',
      'multipart/alternative',
      'text/plain',
      'multipart/related',
      'text/html',
      'image/png',
      'application/pdf',
    ]);
    assert.match(text, /multipart\/related; boundary="[^"]+";\r\n type="text\/html"/);
    assert.match(text, /Content-Disposition: inline; filename=logo\.png\r\nContent-ID: <logo@x>/);
  });

  test('alternatives and the calendar event follow the HTML; the event is also attached', async () => {
    const { text } = await render({
      ...BASE,
      text: 'Hi',
      html: '<b>Hi</b>',
      alternatives: [{ contentType: 'text/x-web-markdown', content: '**Hi**' }],
      icalEvent: { content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' },
    });
    assert.deepEqual(contentTypes(text), [
      'multipart/mixed',
      'multipart/alternative',
      'text/plain',
      'text/html',
      'text/x-web-markdown',
      'text/calendar',
      'application/ics',
    ]);
    assert.match(text, /Content-Type: text\/calendar; charset=utf-8; method=REQUEST\r\n/);
    assert.match(text, /Content-Disposition: attachment; filename=invite\.ics/);
  });

  test('attachments without a body, and a message with nothing at all', async () => {
    const only = await render({ ...BASE, attachments: [{ filename: 'a.txt', content: 'x' }] });
    assert.deepEqual(contentTypes(only.text), ['multipart/mixed', 'text/plain']);
    const empty = await render({ ...BASE });
    assert.deepEqual(contentTypes(empty.text), ['text/plain']);
    assert.ok(empty.text.endsWith('Content-Transfer-Encoding: 7bit\r\n\r\n'));
  });

  test('inline images without HTML become ordinary parts of multipart/mixed', async () => {
    const { text } = await render({
      ...BASE,
      text: 'x',
      attachments: [{ filename: 'a.png', content: 'x', cid: 'a' }],
    });
    assert.deepEqual(contentTypes(text), ['multipart/mixed', 'text/plain', 'image/png']);
  });

  test('multipart bodies end with the close delimiter and a CRLF', async () => {
    const { text, bytes } = await render({ ...BASE, text: 'a', html: 'b' });
    assert.match(text, /\r\n--=_postern_[A-Za-z0-9_-]+--\r\n$/);
    assertWellFormed(bytes);
  });
});

describe('header fields', () => {
  test('Date, Message-ID on the sender domain, MIME-Version; no Bcc', async () => {
    const { text, composed } = await render({
      ...BASE,
      bcc: 'hidden@example.net',
      text: 'x',
      date: new Date(Date.UTC(2026, 0, 1, 9, 30)),
    });
    const header = headerBlock(text);
    assert.equal(fieldValue(header, 'Date'), 'Thu, 01 Jan 2026 09:30:00 +0000');
    assert.match(composed.messageId, /^<[0-9a-f-]{36}@example\.com>$/);
    assert.equal(fieldValue(header, 'Message-ID'), composed.messageId);
    assert.ok(!/^bcc:/im.test(text));
    assert.ok(!text.includes('hidden@example.net'));
  });

  test('every compose makes a new Message-ID', async () => {
    const a = await compose({ ...BASE, text: 'x' });
    const b = await compose({ ...BASE, text: 'x' });
    assert.notEqual(a.messageId, b.messageId);
  });

  test('a given Message-ID, In-Reply-To and References get their angle brackets', async () => {
    const { text, composed } = await render({
      ...BASE,
      text: 'x',
      messageId: 'abc@example.com',
      inReplyTo: '<parent@example.com>',
      references: ['<root@example.com>', 'parent@example.com'],
    });
    assert.equal(composed.messageId, '<abc@example.com>');
    assert.equal(fieldValue(text, 'In-Reply-To'), '<parent@example.com>');
    assert.equal(fieldValue(text, 'References'), '<root@example.com> <parent@example.com>');
  });

  test('priority writes X-Priority, X-MSMail-Priority and Importance', async () => {
    const { text } = await render({ ...BASE, text: 'x', priority: 'high' });
    assert.equal(fieldValue(text, 'X-Priority'), '1 (Highest)');
    assert.equal(fieldValue(text, 'Importance'), 'High');
    const normal = await render({ ...BASE, text: 'x', priority: 'normal' });
    assert.equal(fieldValue(normal.text, 'X-Priority'), undefined);
  });

  test('list headers with RFC 8058 one-click unsubscribe', async () => {
    const { text } = await render({
      ...BASE,
      text: 'x',
      list: {
        id: { id: 'news.example.com', name: 'Example News' },
        unsubscribe: { url: 'https://example.com/unsub?u=1', mail: 'unsub@example.com', oneClick: true },
        help: 'https://example.com/help',
        post: false,
      },
    });
    assert.equal(fieldValue(text, 'List-Id'), 'Example News <news.example.com>');
    assert.equal(
      fieldValue(text, 'List-Unsubscribe'),
      '<https://example.com/unsub?u=1>, <mailto:unsub@example.com>',
    );
    assert.equal(fieldValue(text, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    assert.equal(fieldValue(text, 'List-Help'), '<https://example.com/help>');
    assert.equal(fieldValue(text, 'List-Post'), 'NO');
  });

  test('one-click unsubscribe needs an https URL', async () => {
    await rejectsWith(
      () => compose({ ...BASE, list: { unsubscribe: { url: 'http://example.com/u', oneClick: true } } }),
      'EINVALID_ARGUMENT',
      /https/,
    );
    await rejectsWith(
      () => compose({ ...BASE, list: { unsubscribe: { mail: 'u@example.com', oneClick: true } } }),
      'EINVALID_ARGUMENT',
    );
  });

  test('custom headers are encoded and folded; lists repeat the field; prepared values go as they are', async () => {
    const { text } = await render({
      ...BASE,
      text: 'x',
      headers: [
        { key: 'X-Campaign', value: 'été 2026' },
        { key: 'X-Tag', value: ['a', 'b'] },
        { key: 'X-Raw', value: { prepared: true, value: '=?utf-8?Q?kept?=' } },
      ],
    });
    assert.match(text, /\r\nX-Campaign: =\?utf-8\?[BQ]\?[^?]+\?= 2026\r\n/);
    assert.match(text, /\r\nX-Tag: a\r\nX-Tag: b\r\n/);
    assert.match(text, /\r\nX-Raw: =\?utf-8\?Q\?kept\?=\r\n/);
  });

  test('protected and dedicated header fields cannot be set as custom headers', async () => {
    for (const name of [
      'MIME-Version',
      'Content-Type',
      'content-transfer-encoding',
      'Content-Disposition',
      'Content-ID',
    ]) {
      await rejectsWith(
        () => compose({ ...BASE, headers: { [name]: 'x' } }),
        'EINVALID_ARGUMENT',
        /MIME structure/,
      );
    }
    await rejectsWith(
      () => compose({ ...BASE, headers: { Subject: 'x' } }),
      'EINVALID_ARGUMENT',
      /`subject`/,
    );
    await rejectsWith(
      () => compose({ ...BASE, headers: { 'Message-ID': '<a@b>' } }),
      'EINVALID_ARGUMENT',
      /`messageId`/,
    );
    await rejectsWith(() => compose({ ...BASE, headers: { Bcc: 'x@y.z' } }), 'EINVALID_ARGUMENT', /blind/);
    await rejectsWith(() => compose({ ...BASE, headers: { 'Return-Path': '<x@y.z>' } }), 'EINVALID_ARGUMENT');
    await rejectsWith(
      () => compose({ ...BASE, priority: 'low', headers: { 'X-Priority': '1' } }),
      'EINVALID_ARGUMENT',
      /already written/,
    );
    await rejectsWith(
      () =>
        compose({ ...BASE, list: { help: 'https://x.org' }, headers: { 'List-Help': '<https://y.org>' } }),
      'EINVALID_ARGUMENT',
      /already written/,
    );
    await rejectsWith(
      () => compose({ ...BASE, attachments: [{ content: 'x', headers: { 'Content-Type': 'text/html' } }] }),
      'EINVALID_ARGUMENT',
    );
    // Without `list`, List-* may be set directly.
    await compose({ ...BASE, headers: { 'List-Help': '<https://y.org>' } });
  });

  test('the header is ASCII without SMTPUTF8 and raw UTF-8 with it', async () => {
    const message = { from: '张三 <zhang@例え.テスト>', to: 'bob@example.org', subject: '测试', text: 'x' };
    const plain = await render(message);
    assert.ok(/^[\x00-\x7f]*$/.test(headerBlock(plain.text)));
    assert.equal(plain.composed.needsSmtpUtf8, false);
    assert.equal(plain.composed.eightBit, false);
    const utf8 = await render(message, { smtpUtf8: true });
    assert.equal(fieldValue(utf8.text, 'Subject'), '测试');
    assert.equal(fieldValue(utf8.text, 'From'), '张三 <zhang@例え.テスト>');
    assert.equal(utf8.composed.needsSmtpUtf8, true);
    assert.equal(utf8.composed.eightBit, true);
    assert.equal(utf8.composed.envelope.from, 'zhang@xn--r8jz45g.xn--zckzah');
  });
});

describe('errors', () => {
  test('header injection anywhere is refused', async () => {
    const cases: Message[] = [
      { ...BASE, subject: 'hi\r\nBcc: victim@example.com' },
      { ...BASE, subject: 'hi\nX: y' },
      { ...BASE, subject: 'nul\0' },
      { ...BASE, from: { name: 'Ann\r\nBcc: x@y.z', address: 'ann@example.com' } },
      { ...BASE, to: 'bob@example.org\r\nBcc: x@y.z' },
      { ...BASE, headers: { 'X-A': 'ok\r\nBcc: x@y.z' } },
      { ...BASE, headers: { 'X-A\r\nBcc': 'x' } },
      { ...BASE, attachments: [{ filename: 'a.txt\r\nContent-Type: text/html', content: 'x' }] },
      { ...BASE, attachments: [{ content: 'x', contentType: 'text/plain\r\nX: y' }] },
      { ...BASE, inReplyTo: '<a@b>\r\nX: y' },
    ];
    for (const message of cases) await rejectsWith(() => compose(message), 'ECOMMAND_INJECTION');
  });

  test('bad addresses, and UTF-8 local parts without SMTPUTF8', async () => {
    await rejectsWith(() => compose({ ...BASE, to: 'not an address' }), 'EADDRESS_INVALID');
    await rejectsWith(() => compose({ ...BASE, to: 'a@b..c' }), 'EADDRESS_INVALID');
    await rejectsWith(() => compose({ ...BASE, from: undefined }), 'EADDRESS_INVALID', /no From/);
    await rejectsWith(() => compose({ ...BASE, from: 'a@x.org, b@x.org' }), 'EADDRESS_INVALID', /sender/);
    await rejectsWith(() => compose({ ...BASE, to: 'josé@example.com' }), 'ESMTPUTF8_REQUIRED');
    await rejectsWith(() => compose({ ...BASE, from: 'josé@example.com' }), 'ESMTPUTF8_REQUIRED');
    const ok = await compose({ ...BASE, to: 'josé@example.com' }, { smtpUtf8: true });
    assert.deepEqual(ok.envelope.to, ['josé@example.com']);
    assert.equal(ok.needsSmtpUtf8, true);
  });

  test('other bad input', async () => {
    await rejectsWith(() => compose(null as never), 'EINVALID_ARGUMENT');
    await rejectsWith(() => compose({ ...BASE, date: 'yesterday' }), 'EINVALID_ARGUMENT');
    await rejectsWith(() => compose({ ...BASE, messageId: 'no at sign' }), 'EINVALID_ARGUMENT');
    await rejectsWith(
      () => compose({ ...BASE, attachments: [{ filename: 'x' }] }),
      'EINVALID_ARGUMENT',
      /no content/,
    );
    await rejectsWith(
      () => compose({ ...BASE, attachments: [{ path: 'https://example.com/x.pdf' }] }),
      'EINVALID_ARGUMENT',
      /URL/,
    );
    await rejectsWith(
      () => compose({ ...BASE, attachments: [{ path: join(dir, 'missing') }] }),
      'EINVALID_ARGUMENT',
      /ENOENT/,
    );
    await rejectsWith(
      () => compose({ ...BASE, attachments: [{ content: 'x', contentType: 'multipart/mixed' }] }),
      'EINVALID_ARGUMENT',
    );
    await rejectsWith(() => compose({ ...BASE, priority: 'urgent' as never }), 'EINVALID_ARGUMENT');
  });
});

describe('envelope', () => {
  test('from sender or from; to + cc + bcc without duplicates', async () => {
    const composed = await compose({
      from: 'Ann <ann@example.com>',
      to: ['bob@example.org', 'Bob <bob@EXAMPLE.org>'],
      cc: 'Team: carol@example.org, bob@example.org;',
      bcc: 'dave@example.org',
    });
    assert.deepEqual(composed.envelope, {
      from: 'ann@example.com',
      to: ['bob@example.org', 'carol@example.org', 'dave@example.org'],
    });
    const withSender = await compose({ from: 'a@x.org, b@x.org', sender: 'c@x.org', to: 'd@y.org' });
    assert.equal(withSender.envelope.from, 'c@x.org');
  });

  test('a sender without from is the author: written as From, with no Sender field', async () => {
    const { text, composed } = await render({ sender: 'Ann <ann@example.com>', to: 'bob@example.org' });
    assert.equal(fieldValue(text, 'From'), 'Ann <ann@example.com>');
    assert.equal(fieldValue(text, 'Sender'), undefined);
    assert.equal(composed.envelope.from, 'ann@example.com');
  });

  test('an explicit envelope wins, with IDN domains as A-labels', async () => {
    const composed = await compose({ ...BASE, envelope: { from: '', to: ['x@bücher.example'] } });
    assert.deepEqual(composed.envelope, { from: '', to: ['x@xn--bcher-kva.example'] });
  });
});

describe('bodies', () => {
  test('text goes as 7bit, quoted-printable, base64 or 8bit as its bytes allow', async () => {
    const cte = async (text: string, eightBitMime = false) =>
      fieldValue(
        (await render({ ...BASE, text }, { eightBitMime })).text.split('\r\n\r\n')[0]!,
        'Content-Transfer-Encoding',
      );
    assert.equal(await cte('plain ascii'), '7bit');
    assert.equal(await cte('déjà vu, mostly ASCII text'), 'quoted-printable');
    assert.equal(await cte('完全是中文的文本内容'), 'base64');
    assert.equal(await cte('déjà vu', true), '8bit');
    assert.equal(await cte('x'.repeat(2000), true), 'quoted-printable');
  });

  test('eightBit is set when a part is 8bit', async () => {
    assert.equal((await compose({ ...BASE, text: 'déjà' }, { eightBitMime: true })).eightBit, true);
    assert.equal((await compose({ ...BASE, text: 'déjà' })).eightBit, false);
  });

  test('attachment content types come from the file name; text from strings gets charset=utf-8', async () => {
    const { text } = await render({
      ...BASE,
      attachments: [
        { filename: 'notes.txt', content: 'hello' },
        { filename: 'data.bin', content: Buffer.from([0, 255]) },
        { filename: 'x.csv', content: 'a,b', contentType: 'text/csv; charset=iso-8859-1' },
        { content: 'aGVsbG8=', encoding: 'base64', filename: false },
      ],
    });
    assert.match(
      text,
      /Content-Type: text\/plain; charset=utf-8; name=notes\.txt\r\nContent-Transfer-Encoding: base64/,
    );
    assert.match(text, /Content-Type: application\/octet-stream; name=data\.bin/);
    assert.match(text, /Content-Type: text\/csv; charset=iso-8859-1; name=x\.csv/);
    assert.match(
      text,
      /Content-Type: application\/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\naGVsbG8=\r\n/,
    );
  });

  test('a Chinese file name gets RFC 2231 filename* and RFC 2047 name=', async () => {
    const { text } = await render({ ...BASE, attachments: [{ filename: '测试报告.pdf', content: 'x' }] });
    assert.match(
      text,
      /Content-Type: application\/pdf; name="=\?utf-8\?B\?5rWL6K\+V5oql5ZGKLnBkZg==\?="\r\n/,
    );
    assert.match(
      text,
      /Content-Disposition: attachment;\r\n filename\*=utf-8''%E6%B5%8B%E8%AF%95%E6%8A%A5%E5%91%8A\.pdf\r\n/,
    );
  });

  test('message/rfc822 attachments are not encoded when they need not be', async () => {
    const inner = 'From: a@b.c\r\nSubject: inner\r\n\r\nbody\r\n';
    const { text } = await render({ ...BASE, attachments: [{ filename: 'fwd.eml', content: inner }] });
    assert.match(text, /Content-Type: message\/rfc822; name=fwd\.eml\r\nContent-Transfer-Encoding: 7bit\r\n/);
    assert.ok(text.includes(inner));
  });

  test('a text body from a file is streamed as base64', async () => {
    const path = join(dir, 'body.txt');
    await writeFile(path, 'Hello from a file\n');
    const { text, composed } = await render({ ...BASE, text: { path } });
    assert.equal(typeof composed.size, 'number');
    assert.match(
      text,
      /Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8gZnJvbSBhIGZpbGUK\r\n$/,
    );
  });

  test('files are streamed, sized up front, and a changed file is refused', async () => {
    const path = join(dir, 'data.bin');
    await writeFile(path, Buffer.alloc(100_000, 7));
    const composed = await compose({ ...BASE, attachments: [{ path }] });
    assert.equal(typeof composed.size, 'number');
    const bytes = await bytesOf(composed);
    assert.equal(bytes.length, composed.size);
    assert.match(bytes.toString(), /filename=data\.bin/);
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    await assert.rejects(bytesOf(composed), /changed after the message was composed/);
  });

  test('file reads abandoned part-way or running side by side keep to their own buffers', async () => {
    // Reads reuse pooled buffers: an abandoned read must finish before its buffer is reused.
    const data = Buffer.alloc(1_000_003);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 9)) % 251;
    const path = join(dir, 'varied.bin');
    await writeFile(path, data);
    const fixed = { ...BASE, date: new Date(0), messageId: '<x@y.z>' };
    const strip = (x: Buffer) => x.toString('latin1').replace(/=_postern_[A-Za-z0-9_-]+/g, 'B');
    const inMemory = await compose({ ...fixed, attachments: [{ filename: 'varied.bin', content: data }] });
    const reference = strip(await bytesOf(inMemory));
    const composed = await compose({ ...fixed, attachments: [{ path }] });
    for await (const _ of composed.stream()) break;
    const [a, b] = await Promise.all([bytesOf(composed), bytesOf(composed)]);
    assert.equal(strip(a), reference);
    assert.equal(strip(b), reference);
  });

  test('a file cut short while it is read is an error, not a short message', async () => {
    const path = join(dir, 'shrinking.bin');
    await writeFile(path, Buffer.alloc(3_000_000, 1));
    const composed = await compose({ ...BASE, attachments: [{ path }] });
    const chunks = composed.stream()[Symbol.asyncIterator]();
    await chunks.next();
    await truncate(path, 1000);
    await rejectsWith(
      async () => {
        while (!(await chunks.next()).done);
      },
      'EINVALID_ARGUMENT',
      /ended after \d+ of 3000000 bytes/,
    );
  });

  test('a Readable body or attachment is replayed identically; size is then unknown', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 'abc');
    const composed = await compose({
      ...BASE,
      text: Readable.from(['streamed ', 'text']),
      attachments: [
        { filename: 'big.bin', content: Readable.from([big.subarray(0, 1000), big.subarray(1000)]) },
      ],
    });
    assert.equal(composed.size, undefined);
    const first = await bytesOf(composed);
    const second = await bytesOf(composed);
    assert.ok(first.equals(second));
    assert.ok(
      first.toString().includes(
        big
          .subarray(0, 57 * 100)
          .toString('base64')
          .slice(0, 76),
      ),
    );
    await composed.dispose();
  });

  test('a stream abandoned part-way (a failed attempt) does not spoil the next one', async () => {
    const data = Buffer.alloc(3_000_000);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const reference = await bytesOf(
      await compose({
        ...BASE,
        date: new Date(0),
        messageId: '<x@y.z>',
        attachments: [{ filename: 'a.bin', content: data }],
      }),
    );
    const composed = await compose({
      ...BASE,
      date: new Date(0),
      messageId: '<x@y.z>',
      attachments: [
        { filename: 'a.bin', content: Readable.from([data.subarray(0, 1000), data.subarray(1000)]) },
      ],
    });
    const first = composed.stream();
    for await (const _ of first) break;
    const full = await bytesOf(composed);
    const strip = (x: Buffer) => x.toString('latin1').replace(/=_postern_[A-Za-z0-9_-]+/g, 'B');
    assert.equal(strip(full), strip(reference));
    await composed.dispose();
  });

  test('two streams read at the same time give the same bytes', async () => {
    const composed = await compose({
      ...BASE,
      attachments: [
        { filename: 'a.bin', content: Readable.from([Buffer.alloc(2_500_000, 1), Buffer.alloc(10, 2)]) },
      ],
    });
    const [a, b] = await Promise.all([bytesOf(composed), bytesOf(composed)]);
    assert.ok(a.equals(b));
    await composed.dispose();
  });

  test('a stream keeps its message alive: collecting the message mid-read does not release its sources', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const big = Buffer.alloc(3 * 1024 * 1024, 'abc');
    const streamOf = async () =>
      (
        await compose({
          ...BASE,
          attachments: [
            { filename: 'a.bin', content: Readable.from([big.subarray(0, 10), big.subarray(10)]) },
          ],
        })
      ).stream();
    const stream = await streamOf();
    let chunks = 0;
    const parts: Buffer[] = [];
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      if (chunks++ % 4 === 0) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    assert.ok(Buffer.concat(parts).toString().includes(big.subarray(0, 57).toString('base64')));
  });

  test('a stream that fails makes stream() fail', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    const composed = await compose({ ...BASE, attachments: [{ filename: 'x', content: failing }] });
    await assert.rejects(bytesOf(composed), /disk on fire/);
  });
});

describe('raw', () => {
  test('sends the bytes as they are, with the envelope from the fields', async () => {
    const raw = 'From: a@b.c\r\nMessage-ID: <raw@b.c>\r\nSubject: x\r\n\r\nGrüße\r\n';
    const composed = await compose({ raw, from: 'a@b.c', to: 'd@e.f' });
    assert.equal((await bytesOf(composed)).toString(), raw);
    assert.equal(composed.messageId, '<raw@b.c>');
    assert.equal(composed.size, Buffer.byteLength(raw));
    assert.equal(composed.eightBit, true);
    assert.equal(composed.needsSmtpUtf8, false);
    assert.deepEqual(composed.envelope, { from: 'a@b.c', to: ['d@e.f'] });
  });

  test('a raw stream is copied aside first, so it has a size and replays', async () => {
    const composed = await compose({
      raw: Readable.from(['Subject: ü\r\n\r\n', 'body\r\n']),
      envelope: { from: 'a@b.c', to: ['d@e.f'] },
    });
    assert.equal(composed.size, 21);
    assert.equal(composed.needsSmtpUtf8, true);
    assert.ok((await bytesOf(composed)).equals(await bytesOf(composed)));
    await composed.dispose();
  });

  test('a raw file is scanned once for its size, 8-bit data and Message-ID', async () => {
    const path = join(dir, 'raw.eml');
    await writeFile(path, 'Message-ID:\r\n <folded@b.c>\r\nSubject: x\r\n\r\nplain\r\n');
    const composed = await compose({ raw: { path }, envelope: { from: 'a@b.c', to: 'd@e.f' } });
    assert.equal(composed.messageId, '<folded@b.c>');
    assert.equal(composed.eightBit, false);
    assert.equal(composed.size, (await bytesOf(composed)).length);
  });

  test('a raw message needs an envelope', async () => {
    await rejectsWith(() => compose({ raw: 'Subject: x\r\n\r\n' }), 'EINVALID_ARGUMENT', /envelope/);
  });
});
