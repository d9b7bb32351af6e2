/**
 * `compose()`: a message object in, RFC 5322/MIME bytes out (as a re-readable stream), with the
 * envelope, size and SMTP parameters the bytes need.
 *
 * Everything random or time-dependent (Message-ID, Date, boundaries) and all header text is fixed here,
 * before `compose()` returns; rendering only walks that tree. That is the whole of how `stream()` can be
 * called again and give the same bytes.
 */
import { Buffer, isAscii } from 'node:buffer';
import { domainToASCII } from 'node:url';
import { InputError } from '../core/errors.js';
import { type AddressEntry, addressField, type Mailbox, mailboxesOf, parseAddresses } from './address.js';
import { Composed } from './composed.js';
import { customFields } from './custom-headers.js';
import { dateOf, formatDate } from './date.js';
import { envelopeOf } from './envelope.js';
import { FieldWriter, unstructuredField } from './header.js';
import { describeType, expectString, invalidArgument } from './input.js';
import { listFields } from './list-headers.js';
import type { ComposedMessage, ComposeOptions, Message } from './message.js';
import { makeMessageId, messageIdList, normalizeMessageId } from './message-id.js';
import { type LeafPart, leavesOf, type Part, withHeadersBefore } from './part.js';
import { alternativeLeaf, attachmentLeaf, icalLeaves, type PartContext, textLeaf } from './parts.js';
import { composeRaw } from './raw.js';
import { messageSize, renderMessage } from './render.js';
import type { ContentSource } from './source.js';
import { arrange } from './structure.js';

interface Addressed {
  readonly from: AddressEntry[];
  readonly sender: Mailbox | undefined;
  readonly replyTo: AddressEntry[];
  readonly to: AddressEntry[];
  readonly cc: AddressEntry[];
  readonly bcc: AddressEntry[];
}

function readAddresses(message: Message, context: PartContext): Addressed {
  const from = parseAddresses(message.from, 'from', context, false);
  const senders = parseAddresses(message.sender, 'sender', context, false) as Mailbox[];
  if (senders.length > 1) throw new InputError('EADDRESS_INVALID', 'sender must be a single address');
  if (from.length === 0 && senders.length === 0) {
    throw new InputError('EADDRESS_INVALID', 'the message has no From address', {
      hint: "set from: 'Name <you@example.com>'",
    });
  }
  if (from.length > 1 && senders.length === 0) {
    throw new InputError(
      'EADDRESS_INVALID',
      'a message with several From addresses needs a sender (RFC 5322 §3.6.2)',
      {
        hint: 'set sender to the one address that actually sends it',
      },
    );
  }
  // With no From, the sender is the author: written as From, without a Sender field (RFC 5322 §3.6.2).
  return {
    from: from.length > 0 ? from : senders,
    sender: from.length > 0 ? senders[0] : undefined,
    replyTo: parseAddresses(message.replyTo, 'replyTo', context),
    to: parseAddresses(message.to, 'to', context),
    cc: parseAddresses(message.cc, 'cc', context),
    bcc: parseAddresses(message.bcc, 'bcc', context),
  };
}

/** The domain for a generated Message-ID: the sender's, or the hostname option for an address literal. */
function idDomain(author: Mailbox, options: ComposeOptions): string {
  if (!author.asciiDomain.startsWith('[')) return author.asciiDomain;
  const hostname = options.hostname ?? 'localhost';
  const ascii = domainToASCII(expectString(hostname, 'options.hostname'));
  if (ascii === '') throw invalidArgument(`options.hostname ${hostname} is not a domain name`);
  return ascii;
}

const PRIORITY: Readonly<Record<string, string>> = {
  high: 'X-Priority: 1 (Highest)\r\nX-MSMail-Priority: High\r\nImportance: High\r\n',
  low: 'X-Priority: 5 (Lowest)\r\nX-MSMail-Priority: Low\r\nImportance: Low\r\n',
  normal: '',
};

function idField(name: string, ids: readonly string[]): string {
  const field = new FieldWriter(name);
  for (const id of ids) field.add(' ', id);
  return field.toString();
}

/** The message header fields, in the usual order, ending before MIME-Version. */
function messageHeader(
  message: Message,
  addressed: Addressed,
  ids: { messageId: string; date: Date },
  context: PartContext,
): string {
  let out = `Date: ${formatDate(ids.date)}\r\n`;
  out += addressField('From', addressed.from, context);
  if (addressed.sender) out += addressField('Sender', [addressed.sender], context);
  if (addressed.replyTo.length > 0) out += addressField('Reply-To', addressed.replyTo, context);
  if (addressed.to.length > 0) out += addressField('To', addressed.to, context);
  if (addressed.cc.length > 0) out += addressField('Cc', addressed.cc, context);
  if (message.subject !== undefined) {
    out += unstructuredField('Subject', expectString(message.subject, 'subject'), context);
  }
  out += `Message-ID: ${ids.messageId}\r\n`;
  if (message.inReplyTo !== undefined) {
    out += idField('In-Reply-To', [
      normalizeMessageId(expectString(message.inReplyTo, 'inReplyTo'), 'inReplyTo'),
    ]);
  }
  if (message.references !== undefined) {
    const references = messageIdList(message.references, 'references');
    if (references.length > 0) out += idField('References', references);
  }
  const written = new Set<string>();
  if (message.priority !== undefined) {
    const fields = Object.hasOwn(PRIORITY, message.priority) ? PRIORITY[message.priority] : undefined;
    if (fields === undefined) throw invalidArgument("priority must be 'high', 'normal' or 'low'");
    out += fields;
    if (fields) for (const name of ['x-priority', 'x-msmail-priority', 'importance']) written.add(name);
  }
  const list = listFields(message.list, context);
  out += list.fields;
  for (const name of list.names) written.add(name);
  out += customFields(message.headers, 'message', written, context);
  return `${out}MIME-Version: 1.0\r\n`;
}

function listOf<T>(value: readonly T[] | undefined, what: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidArgument(`${what} must be a list, not ${describeType(value)}`);
  return value;
}

/** A message without any body gets an empty text/plain one. */
const EMPTY_TEXT: LeafPart = {
  kind: 'leaf',
  headers: 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n',
  body: { kind: 'bytes', bytes: Buffer.alloc(0) },
  eightBit: false,
};

async function bodyTree(message: Message, context: PartContext, owned: ContentSource[]): Promise<Part> {
  const text = message.text === undefined ? undefined : await textLeaf(message.text, 'plain', context, owned);
  const html = message.html === undefined ? undefined : await textLeaf(message.html, 'html', context, owned);
  const alternatives: LeafPart[] = [];
  const attachments: LeafPart[] = [];
  const related: LeafPart[] = [];
  for (const [i, alternative] of listOf(message.alternatives, 'alternatives').entries()) {
    alternatives.push(await alternativeLeaf(alternative, i, context, owned));
  }
  for (const [i, attachment] of listOf(message.attachments, 'attachments').entries()) {
    const { leaf, related: isRelated } = await attachmentLeaf(attachment, i, context, owned);
    (isRelated ? related : attachments).push(leaf);
  }
  if (message.icalEvent !== undefined) {
    const ical = icalLeaves(message.icalEvent, context);
    alternatives.push(ical.alternative);
    attachments.push(ical.attachment);
  }
  return arrange({ text, html, related, alternatives, attachments }, EMPTY_TEXT);
}

function headersOf(part: Part): string {
  return part.kind === 'leaf' ? part.headers : part.headers + part.children.map(headersOf).join('');
}

/**
 * Composes a message. Throws InputError for anything that cannot be written safely: 'ECOMMAND_INJECTION'
 * for CR/LF/NUL in header text, 'EADDRESS_INVALID' for a bad address, 'ESMTPUTF8_REQUIRED' for a UTF-8
 * local part without `smtpUtf8`, 'EINVALID_ARGUMENT' for the rest.
 *
 * @example
 * const mail = await compose({ from: 'Ann <ann@example.com>', to: 'bob@example.org', subject: 'Hi', text: 'Hello' });
 * mail.stream().pipe(process.stdout);
 */
export async function compose(message: Message, options: ComposeOptions = {}): Promise<ComposedMessage> {
  if (typeof message !== 'object' || message === null) {
    throw invalidArgument(`compose() needs a message object, not ${describeType(message)}`);
  }
  if (message.raw !== undefined) return composeRaw(message, options);
  const context: PartContext = {
    smtpUtf8: options.smtpUtf8 === true,
    eightBitMime: options.eightBitMime === true,
  };
  const addressed = readAddresses(message, context);
  const author = addressed.sender ?? mailboxesOf(addressed.from)[0]!;
  const envelope = envelopeOf(
    message.envelope,
    {
      sender: addressed.sender,
      from: mailboxesOf(addressed.from),
      recipients: [...addressed.to, ...addressed.cc, ...addressed.bcc],
    },
    context,
  );
  const messageId =
    message.messageId === undefined
      ? makeMessageId(idDomain(author, options))
      : normalizeMessageId(expectString(message.messageId, 'messageId'));
  const header = messageHeader(message, addressed, { messageId, date: dateOf(message.date) }, context);
  const owned: ContentSource[] = [];
  try {
    const root = withHeadersBefore(await bodyTree(message, context, owned), header);
    const headerUtf8 = !isAscii(Buffer.from(headersOf(root), 'utf8'));
    const envelopeUtf8 = [envelope.from, ...envelope.to].some((address) => /[^\x00-\x7f]/.test(address));
    const eightBitBody = [...leavesOf(root)].some((leaf) => leaf.eightBit);
    return new Composed(
      {
        envelope,
        messageId,
        size: messageSize(root),
        needsSmtpUtf8: headerUtf8 || envelopeUtf8,
        eightBit: headerUtf8 || eightBitBody,
      },
      () => renderMessage(root),
      owned,
    );
  } catch (err) {
    await Promise.all(owned.map((source) => source.dispose()));
    throw err;
  }
}
