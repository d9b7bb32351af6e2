/**
 * Checks on caller input before it becomes header text. A CR or LF in a value would end the header field
 * and start a new one (header injection); a NUL is cut off or mishandled by many receivers. Both are
 * refused outright rather than stripped, so a caller learns that untrusted input reached a header.
 */
import { Buffer } from 'node:buffer';
import { InputError } from '../core/errors.js';

// CR, LF and NUL, plus the Unicode line separators that some clients render as line breaks.
const BREAKING = /[\r\n\0\u2028\u2029]/;
const SHOWN_RAW = /[\x20-\x7e]|[^\x00-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * `text` in quotes with control characters escaped, cut to `max` characters: safe to put in an error
 * message or a log line, whatever the caller passed.
 */
export function shown(text: string, max = 60): string {
  let out = '';
  for (const ch of text) {
    const piece =
      ch === '"' || ch === '\\'
        ? `\\${ch}`
        : SHOWN_RAW.test(ch)
          ? ch
          : `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;
    if (out.length + piece.length > max) return `"${out}…"`;
    out += piece;
  }
  return `"${out}"`;
}

/** Throws 'ECOMMAND_INJECTION' when `value` holds CR, LF, NUL or a Unicode line separator. */
export function assertOneLine(value: string, what: string): void {
  if (BREAKING.test(value)) {
    throw new InputError(
      'ECOMMAND_INJECTION',
      `${what} ${shown(value)} contains a line break or NUL, which could inject header fields`,
      { hint: 'remove CR, LF and NUL characters from values that go into headers' },
    );
  }
}

/** Throws 'EINVALID_ARGUMENT' unless `value` is a string. */
export function expectString(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new InputError('EINVALID_ARGUMENT', `${what} must be a string, not ${describeType(value)}`);
  }
  return value;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** A plain 'EINVALID_ARGUMENT' error. */
export function invalidArgument(message: string, hint?: string): InputError {
  return new InputError('EINVALID_ARGUMENT', message, { hint });
}

/** Whether the text contains anything outside US-ASCII. */
export function hasNonAscii(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}

/** The UTF-8 length of `text`. */
export function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
