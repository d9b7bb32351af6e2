/**
 * xtext (RFC 3461 §4): how ENVID and ORCPT values travel in ESMTP parameters. Every octet outside
 * "!".."~", and "+" and "=" themselves, is written as "+" and two uppercase hex digits.
 */

import { Buffer } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { printable } from './printable.js';

const PLAIN = /^[\x21-\x2a\x2c-\x3c\x3e-\x7e]*$/;
const HEX = '0123456789ABCDEF';

/**
 * Encodes text (as UTF-8 octets) into xtext.
 *
 * @example encodeXtext('a+b=c d') // => 'a+2Bb+3Dc+20d'
 */
export function encodeXtext(text: string): string {
  if (PLAIN.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte > 0x20 && byte < 0x7f && byte !== 0x2b && byte !== 0x3d
        ? String.fromCharCode(byte)
        : `+${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const upper = code & ~0x20;
  return upper >= 0x41 && upper <= 0x46 ? upper - 0x37 : -1;
}

/**
 * Decodes xtext to text (the octets read as UTF-8). Lowercase hex digits and a bare "=" are accepted,
 * as some senders write them; anything outside "!".."~" and a "+" without two hex digits is an
 * InputError 'EINVALID_ARGUMENT'.
 *
 * @example decodeXtext('a+2Bb') // => 'a+b'
 */
export function decodeXtext(xtext: string): string {
  if (!xtext.includes('+') && PLAIN.test(xtext.replaceAll('=', '!'))) return xtext;
  const bytes = Buffer.allocUnsafe(xtext.length);
  let n = 0;
  for (let i = 0; i < xtext.length; i++) {
    const code = xtext.charCodeAt(i);
    if (code === 0x2b) {
      const high = hexValue(xtext.charCodeAt(i + 1));
      const low = hexValue(xtext.charCodeAt(i + 2));
      if (high < 0 || low < 0) {
        throw new InputError(
          'EINVALID_ARGUMENT',
          `${printable(xtext)} is not xtext: "+" must be followed by two hex digits`,
        );
      }
      bytes[n++] = high * 16 + low;
      i += 2;
    } else if (code > 0x20 && code < 0x7f) {
      bytes[n++] = code;
    } else {
      throw new InputError(
        'EINVALID_ARGUMENT',
        `${printable(xtext)} is not xtext: it has a character outside "!".."~"`,
      );
    }
  }
  return bytes.toString('utf8', 0, n);
}
