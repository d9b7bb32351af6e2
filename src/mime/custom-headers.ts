/**
 * Caller-supplied header fields, and the rule for which ones a caller may set:
 *
 * 1. The MIME structure belongs to the composer: MIME-Version, Content-Type, Content-Transfer-Encoding,
 *    Content-Disposition, Content-ID and Content-Length cannot be set, on the message or on a part.
 * 2. A field with its own message property must be set through it (From → `from`, Subject → `subject`,
 *    Message-ID → `messageId`, ...); Bcc cannot be set at all (it would disclose the blind copies), and
 *    neither can Return-Path (the receiving server adds it, RFC 5321 §4.4).
 * 3. Custom fields add; they never duplicate a field the composer writes for this message (List-* from
 *    `list`, X-Priority and friends from `priority`).
 * Anything else — X-*, Auto-Submitted, Keywords, Comments, List-* without `list` — is allowed, repeated
 * as often as given. Names must be ftext; values are encoded and folded like Subject unless `prepared`.
 */
import { InputError } from '../core/errors.js';
import { checkFieldName, type HeaderContext, preparedField, unstructuredField } from './header.js';
import { describeType, shown } from './input.js';
import type { CustomHeaders, HeaderValue } from './message.js';

const STRUCTURAL = new Set([
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'content-id',
  'content-length',
]);

/** Fields with a dedicated message property, and that property. */
const PROPERTY_OF: Readonly<Record<string, string>> = {
  date: 'date',
  from: 'from',
  sender: 'sender',
  'reply-to': 'replyTo',
  to: 'to',
  cc: 'cc',
  subject: 'subject',
  'message-id': 'messageId',
  'in-reply-to': 'inReplyTo',
  references: 'references',
};

const FORBIDDEN: Readonly<Record<string, string>> = {
  bcc: 'use the `bcc` property: a Bcc field would disclose the blind copies',
  'return-path': 'the receiving server adds Return-Path from the envelope (use `envelope.from`)',
};

export type HeaderLevel = 'message' | 'part';

function refuse(name: string, why: string): InputError {
  return new InputError('EINVALID_ARGUMENT', `the header ${shown(name)} cannot be set here: ${why}`);
}

function entriesOf(headers: CustomHeaders): [string, HeaderValue][] {
  if (Array.isArray(headers)) {
    return headers.map((entry: { key: unknown; value: HeaderValue }) => {
      if (typeof entry?.key !== 'string') throw refuse(String(entry?.key), 'a header name must be a string');
      return [entry.key, entry.value];
    });
  }
  if (typeof headers !== 'object' || headers === null) {
    throw new InputError(
      'EINVALID_ARGUMENT',
      `headers must be an object or a list, not ${describeType(headers)}`,
    );
  }
  return Object.entries(headers as Record<string, HeaderValue>);
}

function fieldsOf(name: string, value: HeaderValue, context: HeaderContext): string[] {
  if (typeof value === 'string') return [unstructuredField(name, value, context)];
  if (Array.isArray(value)) return value.flatMap((v: HeaderValue) => fieldsOf(name, v, context));
  if (typeof value === 'object' && value !== null && 'prepared' in value && value.prepared === true) {
    const values: readonly unknown[] = Array.isArray(value.value) ? value.value : [value.value];
    return values.map((v) => {
      if (typeof v !== 'string') throw refuse(name, 'a prepared value must be a string');
      return preparedField(name, v, context);
    });
  }
  throw new InputError(
    'EINVALID_ARGUMENT',
    `the value of the header ${shown(name)} must be a string, a list of strings or { prepared: true, value }, not ${describeType(value)}`,
  );
}

/**
 * The caller's header fields, checked and rendered (each ending CRLF). `written` holds the lower-case
 * names of the fields the composer writes itself for this message or part.
 */
export function customFields(
  headers: CustomHeaders | undefined,
  level: HeaderLevel,
  written: ReadonlySet<string>,
  context: HeaderContext,
): string {
  if (headers === undefined) return '';
  let out = '';
  for (const [name, value] of entriesOf(headers)) {
    checkFieldName(name);
    const key = name.toLowerCase();
    if (STRUCTURAL.has(key)) throw refuse(name, 'the composer writes the MIME structure');
    const forbidden = FORBIDDEN[key];
    if (forbidden) throw refuse(name, forbidden);
    const property = PROPERTY_OF[key];
    if (property) {
      throw refuse(
        name,
        level === 'message' ? `use the \`${property}\` property` : 'it belongs in the message header',
      );
    }
    if (written.has(key)) throw refuse(name, 'it is already written from another property of the message');
    if (value === undefined || value === null) continue;
    for (const field of fieldsOf(name, value, context)) out += field;
  }
  return out;
}
