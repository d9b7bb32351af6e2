/**
 * The header section as DKIM sees it: a list of fields (a field is its first line plus its continuation
 * lines), header canonicalisation (RFC 6376 §3.4.1 simple, §3.4.2 relaxed) and the choice of which
 * instance of a repeated field each h= entry signs (§5.4.2).
 */

import { Buffer } from 'node:buffer';
import { InputError } from '../../core/errors.js';

export type HeaderCanonicalization = 'simple' | 'relaxed';

export interface HeaderField {
  /** The name in lower case, for matching (field names are case-insensitive). */
  readonly key: string;
  /** The field exactly as in the message, from its name to its final CRLF. */
  readonly raw: Buffer;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/** RFC 5322 §3.6.8 field name: printable US-ASCII except ":". */
export const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Splits a CRLF-normalised header section (every field ends in CRLF, no blank line) into fields.
 * Throws InputError for what no verifier would read the same way: a first line that is a continuation,
 * a line without a colon, an empty line inside the section, a section not ending in CRLF.
 */
export function parseHeaderFields(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  if (block.length === 0) return fields;
  if (block[block.length - 2] !== CR || block[block.length - 1] !== LF) {
    throw malformed('it does not end with CRLF');
  }
  let fieldStart = -1;
  let key = '';
  let pos = 0;
  while (pos < block.length) {
    const lineEnd = block.indexOf(LF, pos) + 1;
    const first = block[pos];
    if (first === CR) throw malformed('it contains an empty line (the header section ends at the first one)');
    if (first === SP || first === TAB) {
      if (fieldStart === -1) throw malformed('it starts with a continuation line');
    } else {
      if (fieldStart !== -1) fields.push({ key, raw: block.subarray(fieldStart, pos) });
      key = fieldKey(block, pos, lineEnd);
      fieldStart = pos;
    }
    pos = lineEnd;
  }
  fields.push({ key, raw: block.subarray(fieldStart) });
  return fields;
}

function fieldKey(block: Buffer, start: number, lineEnd: number): string {
  const colon = block.indexOf(COLON, start);
  if (colon === -1 || colon >= lineEnd) throw malformed('a line has no colon');
  // obs-optional (RFC 5322 §4.5.3): WSP between name and colon.
  let end = colon;
  while (end > start && (block[end - 1] === SP || block[end - 1] === TAB)) end--;
  const name = block.toString('latin1', start, end);
  if (!FIELD_NAME.test(name)) throw malformed('a field name is empty or not printable US-ASCII');
  return name.toLowerCase();
}

function malformed(why: string): InputError {
  return new InputError(
    'EINVALID_ARGUMENT',
    `cannot DKIM-sign: the message header section is malformed: ${why}`,
  );
}

/** One field in the form it is hashed, including its CRLF. */
export function canonicalizeHeaderField(raw: Buffer, kind: HeaderCanonicalization): Buffer {
  if (kind === 'simple') return raw;
  // latin1 maps bytes 1:1, so UTF-8 values (RFC 6532) pass through unchanged. Only SP and TAB are
  // whitespace here: String#trim would also eat U+00A0, which is a byte inside UTF-8 sequences.
  const text = raw.toString('latin1');
  const colon = text.indexOf(':');
  const name = text
    .slice(0, colon)
    .replace(/[ \t]+$/, '')
    .toLowerCase();
  const value = text
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
  return Buffer.from(`${name}:${value}\r\n`, 'latin1');
}

/**
 * The field each h= entry signs: for repeated names, the last unused instance counting from the bottom
 * (RFC 6376 §5.4.2); undefined when none is left — an over-signed entry, hashed as nothing.
 */
export function selectSignedFields(
  fields: readonly HeaderField[],
  names: readonly string[],
): (HeaderField | undefined)[] {
  const nextFromBottom = new Map<string, number>();
  return names.map((name) => {
    let i = nextFromBottom.get(name) ?? fields.length;
    let found: HeaderField | undefined;
    while (i > 0) {
      i--;
      if (fields[i]!.key === name) {
        found = fields[i];
        break;
      }
    }
    nextFromBottom.set(name, i);
    return found;
  });
}

/** How often each field name occurs. */
export function countFields(fields: readonly HeaderField[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const field of fields) counts.set(field.key, (counts.get(field.key) ?? 0) + 1);
  return counts;
}
