/**
 * A raw message: bytes the caller already composed, sent as they are. Its envelope comes from
 * `envelope` or the address fields of the message object (the raw header is not trusted for that).
 * The bytes are read once up front to learn what MAIL FROM must say (8-bit data, UTF-8 header) and the
 * Message-ID: a one-shot stream is copied aside completely for that, a file is scanned.
 */
import { Buffer, isAscii } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { type AddressContext, mailboxesOf, parseAddresses } from './address.js';
import { Composed } from './composed.js';
import { envelopeOf } from './envelope.js';
import { describeType } from './input.js';
import type { ComposedMessage, ComposeOptions, Message } from './message.js';
import { normalizeMessageId } from './message-id.js';
import { BufferSource, type ContentSource, FileSource } from './source.js';
import { SpillSource } from './spill.js';

/** How much of the start is searched for the end of the header. */
const HEADER_SCAN_LIMIT = 256 * 1024;

async function rawSource(raw: NonNullable<Message['raw']>, owned: ContentSource[]): Promise<ContentSource> {
  if (typeof raw === 'string') return new BufferSource(Buffer.from(raw, 'utf8'));
  if (raw instanceof Uint8Array)
    return new BufferSource(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  if (typeof raw === 'object' && raw !== null && Symbol.asyncIterator in raw) {
    const spill = new SpillSource(raw as AsyncIterable<unknown>);
    owned.push(spill);
    await spill.drain();
    return spill;
  }
  if (typeof raw === 'object' && raw !== null && typeof (raw as { path?: unknown }).path === 'string') {
    return FileSource.open((raw as { path: string }).path, 'the raw message');
  }
  throw new InputError(
    'EINVALID_ARGUMENT',
    `raw must be a string, bytes, a stream or { path }, not ${describeType(raw)}`,
  );
}

interface Scan {
  readonly size: number;
  readonly eightBit: boolean;
  readonly header: string;
}

async function scan(source: ContentSource): Promise<Scan> {
  let size = 0;
  let eightBit = false;
  let head = Buffer.alloc(0);
  let headDone = false;
  // Transient: nothing here keeps a chunk (the header is copied by concat).
  for await (const chunk of source.read({ transient: true })) {
    size += chunk.length;
    if (!eightBit && !isAscii(chunk)) eightBit = true;
    if (!headDone) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      const lfEnd = head.indexOf('\n\n');
      const cut = end !== -1 ? end : lfEnd;
      if (cut !== -1 || head.length >= HEADER_SCAN_LIMIT) {
        head = head.subarray(0, cut === -1 ? HEADER_SCAN_LIMIT : cut);
        headDone = true;
      }
    }
  }
  return { size, eightBit, header: head.toString('utf8') };
}

function messageIdIn(header: string): string {
  const unfolded = header.replace(/\r?\n(?=[ \t])/g, '');
  const match = /^message-id:[ \t]*(<[^<>\s]+>)/im.exec(unfolded);
  if (!match) return '';
  try {
    return normalizeMessageId(match[1]!);
  } catch {
    return '';
  }
}

export async function composeRaw(message: Message, options: ComposeOptions): Promise<ComposedMessage> {
  const context: AddressContext = { smtpUtf8: options.smtpUtf8 === true };
  const from = mailboxesOf(parseAddresses(message.from, 'from', context, false));
  const senders = mailboxesOf(parseAddresses(message.sender, 'sender', context, false));
  const recipients = [message.to, message.cc, message.bcc].flatMap((field, i) =>
    parseAddresses(field, ['to', 'cc', 'bcc'][i]!, context),
  );
  const envelope = envelopeOf(message.envelope, { sender: senders[0], from, recipients }, context);
  if (envelope.from === '' && message.envelope === undefined) {
    throw new InputError('EINVALID_ARGUMENT', 'a raw message needs an envelope', {
      hint: 'pass envelope: { from, to }, or from and to addresses next to raw',
    });
  }
  const owned: ContentSource[] = [];
  try {
    const source = await rawSource(message.raw!, owned);
    const scanned = await scan(source);
    const headerUtf8 = !isAscii(Buffer.from(scanned.header, 'utf8'));
    const envelopeUtf8 = [envelope.from, ...envelope.to].some((address) => /[^\x00-\x7f]/.test(address));
    return new Composed(
      {
        envelope,
        messageId:
          message.messageId !== undefined
            ? normalizeMessageId(message.messageId)
            : messageIdIn(scanned.header),
        size: scanned.size,
        needsSmtpUtf8: headerUtf8 || envelopeUtf8,
        eightBit: scanned.eightBit,
      },
      () => source.read(),
      owned,
    );
  } catch (err) {
    await Promise.all(owned.map((source) => source.dispose()));
    throw err;
  }
}
