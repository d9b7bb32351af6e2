// Random messages for the mime property tests: text from many scripts (CJK, emoji with ZWJ and skin
// tones, Hebrew and Arabic, combining marks, Latin-1) mixed with the ASCII that header syntax cares about,
// very long words and lines, bare CR/LF/NUL in bodies, IDN domains, empty, binary and larger attachments.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { AddressObject, Attachment, Message } from '../../../src/mime/message.js';

const codePoints = (min: number, max: number) =>
  fc.integer({ min, max }).map((cp) => String.fromCodePoint(cp));

/** Characters from many scripts plus the ASCII that header syntax cares about. */
const char = fc.oneof(
  { weight: 6, arbitrary: codePoints(0x21, 0x7e) },
  { weight: 3, arbitrary: fc.constant(' ') },
  { weight: 3, arbitrary: codePoints(0x4e00, 0x9fff) },
  { weight: 1, arbitrary: codePoints(0x1f300, 0x1f64f) },
  { weight: 1, arbitrary: fc.constantFrom('👩‍👩‍👧', '🏳️‍🌈', '👍🏽', '❤️') },
  { weight: 1, arbitrary: codePoints(0x05d0, 0x05ea) },
  { weight: 1, arbitrary: codePoints(0x0627, 0x064a) },
  { weight: 1, arbitrary: codePoints(0x0300, 0x036f) },
  { weight: 1, arbitrary: codePoints(0xc0, 0xff) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('"', '\\', '=?', '?=', ',', ';', ':', '<', '>', '@', '(', ')', '_', '=', '\t'),
  },
);

export const unicode = (maxLength: number, minLength = 0) => fc.string({ unit: char, minLength, maxLength });

const longWord = fc.oneof(
  fc.integer({ min: 80, max: 3000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 30, max: 700 }).map((n) => '测'.repeat(n)),
);

const subject = fc.oneof(
  { weight: 4, arbitrary: unicode(200) },
  { weight: 1, arbitrary: fc.tuple(unicode(20), longWord, unicode(20)).map((parts) => parts.join(' ')) },
);

const bodyText = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: unicode(120) },
      { weight: 3, arbitrary: fc.constantFrom('\n', '\r\n', '\r', '\n\n') },
      { weight: 1, arbitrary: longWord },
      { weight: 1, arbitrary: fc.constantFrom('.', '..', 'From me', '--=_postern_x', ' trailing  ', '\0') },
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const domain = fc.constantFrom(
  'example.com',
  'mail.example.org',
  'bücher.example',
  '例え.テスト',
  'xn--80ak6aa92e.com',
);
const local = fc
  .array(fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}$/), { minLength: 1, maxLength: 3 })
  .map((atoms) => atoms.join('.'));
/** UTF-8 local parts (RFC 6531), for SMTPUTF8 only. */
const utf8Local = fc.string({
  unit: fc.oneof(codePoints(0x4e00, 0x9fff), codePoints(0xe0, 0xff), codePoints(0x61, 0x7a)),
  minLength: 1,
  maxLength: 8,
});
const mailboxOf = (localPart: fc.Arbitrary<string>): fc.Arbitrary<AddressObject> =>
  fc.record({
    name: fc.oneof(fc.constant(''), unicode(40)),
    address: fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`),
  });
const mailbox = mailboxOf(local);

const extension = fc.constantFrom('.pdf', '.png', '.bin', '.txt', '.docx', '.zip', '');
const attachment: fc.Arbitrary<Attachment> = fc.record({
  filename: fc.tuple(unicode(60, 1), extension).map(([stem, ext]) => `${stem.replace(/[/\\]/g, '_')}${ext}`),
  content: fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 4000 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 200_000 }).map((n) => Buffer.alloc(n, n & 255)) },
  ),
});

const messageWith = (box: fc.Arbitrary<AddressObject>): fc.Arbitrary<Message> =>
  fc.record(
    {
      from: box,
      to: fc.array(box, { minLength: 1, maxLength: 3 }),
      cc: fc.array(box, { maxLength: 2 }),
      subject,
      text: bodyText,
      html: bodyText.map((t) => `<p>${t}</p>`),
      attachments: fc.array(attachment, { maxLength: 8 }),
    },
    { requiredKeys: ['from', 'to', 'subject'] },
  );
export const message = messageWith(mailbox);
export const utf8Message = messageWith(fc.oneof(mailbox, mailboxOf(utf8Local)));
