/**
 * Choosing a Content-Transfer-Encoding (RFC 2045 §6, RFC 6152) for text held in memory:
 *
 * - 7bit: US-ASCII without NUL, every line at most 998 octets (RFC 5322 §2.1.1) — sent as it is;
 * - 8bit: the same but with octets above 127, only when the server offers 8BITMIME;
 * - quoted-printable or base64 otherwise, whichever comes out shorter: QP for mostly-ASCII text (it stays
 *   readable), base64 for text in scripts where most characters are several non-ASCII bytes.
 *
 * Attachments and streamed bodies always use base64: it keeps every byte (line ends, trailing spaces)
 * exactly, and its size is known from the input size, so SIZE can be declared before the data is read.
 */
import { Buffer } from 'node:buffer';
import { base64Encode, base64Size } from './base64.js';
import { encodeQuotedPrintable } from './quoted-printable.js';

export type TransferEncoding = '7bit' | '8bit' | 'quoted-printable' | 'base64';

export const MAX_LINE_OCTETS = 998;

/** Text with every line end (CRLF, a bare LF, a bare CR) written as CRLF. */
export function toCrlf(text: Buffer): Buffer {
  let bare = false;
  for (let i = text.indexOf(0x0a); i !== -1; i = text.indexOf(0x0a, i + 1)) {
    if (text[i - 1] !== 0x0d) {
      bare = true;
      break;
    }
  }
  if (!bare) {
    for (let i = text.indexOf(0x0d); i !== -1; i = text.indexOf(0x0d, i + 1)) {
      if (text[i + 1] !== 0x0a) {
        bare = true;
        break;
      }
    }
  }
  if (!bare) return text;
  return Buffer.from(text.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

interface TextStats {
  readonly highBytes: boolean;
  readonly nul: boolean;
  readonly longestLine: number;
  /** Bytes quoted-printable must write as "=XX". */
  readonly escapes: number;
}

function statsOf(text: Buffer): TextStats {
  let highBytes = false;
  let nul = false;
  let escapes = 0;
  let longestLine = 0;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i]!;
    if (byte === 0x0a && text[i - 1] === 0x0d) {
      longestLine = Math.max(longestLine, i - 1 - lineStart);
      lineStart = i + 1;
      continue;
    }
    if (byte >= 0x80) {
      highBytes = true;
      escapes++;
    } else if (byte === 0) {
      nul = true;
      escapes++;
    } else if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0d) || byte === 0x3d || byte === 0x7f) {
      escapes++;
    }
  }
  longestLine = Math.max(longestLine, text.length - lineStart);
  return { highBytes, nul, longestLine, escapes };
}

export interface EncodedText {
  readonly encoding: TransferEncoding;
  /** The encoded body. */
  readonly body: Buffer;
}

/**
 * Normalises line ends to CRLF and picks and applies the transfer encoding.
 *
 * @example encodeText(Buffer.from('hello\n'), { eightBitMime: false }) // => { encoding: '7bit', body: <'hello\r\n'> }
 */
export function encodeText(text: Buffer, options: { readonly eightBitMime: boolean }): EncodedText {
  const crlf = toCrlf(text);
  const stats = statsOf(crlf);
  if (!stats.nul && stats.longestLine <= MAX_LINE_OCTETS) {
    if (!stats.highBytes) return { encoding: '7bit', body: crlf };
    if (options.eightBitMime) return { encoding: '8bit', body: crlf };
  }
  // Estimate QP's length (escapes take 3 octets, plus a soft break per 73 octets) against base64's.
  const qpEstimate = crlf.length + 2 * stats.escapes + 3 * Math.floor(crlf.length / 73);
  if (qpEstimate <= base64Size(crlf.length)) {
    return { encoding: 'quoted-printable', body: encodeQuotedPrintable(crlf) };
  }
  return { encoding: 'base64', body: base64Encode(crlf) };
}
