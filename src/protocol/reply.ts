/**
 * SMTP replies (RFC 5321 §4.2) as typed values, and a parser that assembles them line by line.
 * Enhanced status codes (RFC 2034, RFC 3463) are split off so callers can switch on them.
 */

import { Buffer } from 'node:buffer';
import { ProtocolError } from '../core/errors.js';
import { escapeControls, printable } from './printable.js';

/** One complete server reply: `250-first line` … `250 last line`. */
export interface Reply {
  /** The three-digit reply code, 200–599. */
  readonly code: number;
  /** The enhanced status code ("5.7.8") when the first line starts with one whose class matches the code. */
  readonly enhanced: string | undefined;
  /** The raw text of each line after "ddd-" / "ddd ", trailing whitespace removed. */
  readonly lines: readonly string[];
  /** The lines joined with "\n", with the enhanced status code prefixes removed. */
  readonly message: string;
}

type HasCode = { readonly code: number };

/** 2xx: the command succeeded (positive completion). */
export function isPositive(reply: HasCode): boolean {
  return reply.code >= 200 && reply.code < 300;
}

/** 3xx: the server waits for more (354 after DATA, 334 during AUTH). */
export function isIntermediate(reply: HasCode): boolean {
  return reply.code >= 300 && reply.code < 400;
}

/** 4xx: failed now, may succeed if retried later. */
export function isTransient(reply: HasCode): boolean {
  return reply.code >= 400 && reply.code < 500;
}

/** 5xx: failed, retrying the same command will fail again. */
export function isPermanent(reply: HasCode): boolean {
  return reply.code >= 500 && reply.code < 600;
}

/**
 * One line for logs and error messages; multi-line text is joined with spaces and control characters
 * are escaped, since the text comes from the peer.
 *
 * @example formatReply(reply) // => '550 5.1.1 User unknown'
 */
export function formatReply(reply: Reply): string {
  const text = reply.message
    .split('\n')
    .filter((line) => line !== '')
    .join(' ');
  const head = reply.enhanced === undefined ? String(reply.code) : `${reply.code} ${reply.enhanced}`;
  return text === '' ? head : `${head} ${escapeControls(text)}`;
}

export interface ReplyParserOptions {
  /** Most lines one reply may have (default 256). */
  readonly maxLines?: number;
  /** Most octets one reply may have, counting CRLF per line (default 65536). */
  readonly maxBytes?: number;
}

// RFC 3463 §2: class "." subject "." detail, each 1–3 digits; it must be followed by a space or end the line.
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?=[ \t]|$)/;
const TRAILING_SPACE = /[ \t\r\n\f\v]+$/;

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Assembles replies from lines (without their CRLF). Returns a Reply when the last line arrives,
 * `undefined` while a multi-line reply is still open. After an error the parser starts afresh, but the
 * connection it reads from should be closed: the two sides no longer agree on where a reply starts.
 *
 * Tolerated quirks: a bare code ("250"), no space after the code on the last line ("250OK"),
 * trailing whitespace. Rejected: anything not starting with a 2xx–5xx code, a continuation line with a
 * different code, and replies over the line or byte limit.
 */
export class ReplyParser {
  readonly #maxLines: number;
  readonly #maxBytes: number;
  #code = 0;
  #lines: string[] = [];
  #bytes = 0;

  constructor(options: ReplyParserOptions = {}) {
    this.#maxLines = options.maxLines ?? 256;
    this.#maxBytes = options.maxBytes ?? 65536;
  }

  /** How many lines of an unfinished multi-line reply are held. */
  get pendingLines(): number {
    return this.#lines.length;
  }

  /** Forgets a partly received reply. */
  reset(): void {
    this.#code = 0;
    this.#lines = [];
    this.#bytes = 0;
  }

  /** Feeds one line; returns the Reply when it was the last line of one. */
  push(line: string): Reply | undefined {
    try {
      return this.#push(line);
    } catch (error) {
      this.reset();
      throw error;
    }
  }

  #push(line: string): Reply | undefined {
    const c0 = line.charCodeAt(0);
    if (
      line.length < 3 ||
      c0 < 0x32 ||
      c0 > 0x35 ||
      !isDigit(line.charCodeAt(1)) ||
      !isDigit(line.charCodeAt(2)) ||
      isDigit(line.charCodeAt(3))
    ) {
      throw new ProtocolError(
        'EPROTOCOL',
        `the server sent ${printable(line)}, which is not an SMTP reply (expected a code 200–599)`,
        { hint: 'check that the port speaks SMTP (and whether it expects implicit TLS)' },
      );
    }
    const code = Number(line.slice(0, 3));
    if (this.#lines.length > 0 && code !== this.#code) {
      throw new ProtocolError(
        'EPROTOCOL',
        `the server sent ${printable(line)} inside a multi-line ${this.#code} reply; every line of one reply must carry the same code`,
      );
    }
    this.#code = code;
    this.#bytes += Buffer.byteLength(line) + 2;
    if (this.#lines.length + 1 > this.#maxLines) {
      throw new ProtocolError(
        'EREPLY_TOO_LONG',
        `the server's ${code} reply has more than ${this.#maxLines} lines`,
      );
    }
    if (this.#bytes > this.#maxBytes) {
      throw new ProtocolError(
        'EREPLY_TOO_LONG',
        `the server's ${code} reply is longer than ${this.#maxBytes} octets`,
      );
    }
    const separator = line[3];
    const more = separator === '-';
    // "250 text" and "250-text" drop the separator; "250text" keeps everything after the code.
    const text = (separator === ' ' || more ? line.slice(4) : line.slice(3)).replace(TRAILING_SPACE, '');
    this.#lines.push(text);
    if (more) return undefined;

    const lines = this.#lines;
    this.reset();
    return makeReply(code, lines);
  }
}

/** Builds a Reply from a code and its line texts (also handy for tests and servers). */
export function makeReply(code: number, lines: readonly string[]): Reply {
  const first = ENHANCED.exec(lines[0] ?? '');
  const enhanced = first && Number(first[1]) === Math.floor(code / 100) ? first[0] : undefined;
  const message = (
    enhanced === undefined
      ? lines
      : lines.map((text) => {
          // RFC 2034 §3: each line of a multi-line reply repeats the code; strip whichever one it carries.
          const m = ENHANCED.exec(text);
          return m && m[1] === enhanced[0] ? text.slice(m[0].length).replace(/^[ \t]+/, '') : text;
        })
  ).join('\n');
  return Object.freeze({ code, enhanced, lines: Object.freeze([...lines]), message });
}
