/**
 * Quoted-printable (RFC 2045 §6.7) for text whose line ends are already CRLF: CRLF stays a hard line break,
 * encoded lines are at most 76 characters (soft breaks "=" CRLF), "=" and bytes outside printable ASCII
 * become "=XX", and a space or tab at the end of a line is encoded so that no transport can strip it.
 * An "=XX" triple is never split by a soft break.
 */
import { Buffer } from 'node:buffer';

const MAX_LINE = 76;
const CR = 0x0d;
const LF = 0x0a;
const EQUALS = 0x3d;
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

function isLiteral(byte: number): boolean {
  return byte >= 0x21 && byte <= 0x7e && byte !== EQUALS;
}

/** Whether position `i` is the end of a line (CRLF follows, or the text ends). */
function atLineEnd(text: Buffer, i: number): boolean {
  return i >= text.length || (text[i] === CR && text[i + 1] === LF);
}

/**
 * Encodes text (CRLF line ends) as quoted-printable.
 *
 * @example encodeQuotedPrintable(Buffer.from('café = ok \r\n')).toString() // => 'caf=C3=A9 =3D ok=20\r\n'
 */
export function encodeQuotedPrintable(text: Buffer): Buffer {
  // Worst case: every byte as "=XX", plus a soft break for every 25 of those.
  const out = Buffer.allocUnsafe(text.length * 3 + Math.ceil(text.length / 25) * 3 + 3);
  let o = 0;
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i]!;
    if (byte === CR && text[i + 1] === LF) {
      out[o++] = CR;
      out[o++] = LF;
      column = 0;
      i++;
      continue;
    }
    const whitespace = byte === 0x20 || byte === 0x09;
    const literal = isLiteral(byte) || (whitespace && !atLineEnd(text, i + 1));
    const width = literal ? 1 : 3;
    // Room for "=" of a soft break, unless this is the last character of the line.
    const limit = atLineEnd(text, i + 1) ? MAX_LINE : MAX_LINE - 1;
    if (column + width > limit) {
      out[o++] = EQUALS;
      out[o++] = CR;
      out[o++] = LF;
      column = 0;
    }
    if (literal) {
      out[o++] = byte;
    } else {
      out[o++] = EQUALS;
      out[o++] = HEX[byte >> 4]!;
      out[o++] = HEX[byte & 15]!;
    }
    column += width;
  }
  return out.subarray(0, o);
}
