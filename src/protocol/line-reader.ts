/**
 * Splits a byte stream from the peer into protocol lines, with a hard bound on line length so a peer
 * that never sends a line end cannot make us buffer without limit.
 */

import { Buffer } from 'node:buffer';
import { ProtocolError } from '../core/errors.js';

const LF = 0x0a;
const CR = 0x0d;

export interface LineReaderOptions {
  /** Longest accepted line in octets, without its line end (default 4096). */
  readonly maxLineLength?: number;
}

/**
 * Turns chunks into lines. Both CRLF and a bare LF end a line (the reading side is tolerant; RFC 5321
 * replies end in CRLF, but some servers send LF). Lines are decoded as UTF-8.
 *
 * `pending` matters after STARTTLS: bytes buffered behind the 220 reply were sent in plaintext and must
 * not be read as if they came over TLS (CVE-2011-0411 class), so the caller checks it and calls `reset()`.
 */
export class LineReader {
  readonly #maxLineLength: number;
  #parts: Buffer[] = [];
  #pending = 0;

  constructor(options: LineReaderOptions = {}) {
    this.#maxLineLength = options.maxLineLength ?? 4096;
  }

  /** Octets held after the last complete line. */
  get pending(): number {
    return this.#pending;
  }

  /** Drops any partial line. */
  reset(): void {
    this.#parts = [];
    this.#pending = 0;
  }

  /**
   * Feeds a chunk and returns the lines it completed. Throws ProtocolError 'EREPLY_TOO_LONG' when a line
   * exceeds the limit; the partial line is dropped, and the connection should be closed.
   */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let lf = chunk.indexOf(LF);
    while (lf !== -1) {
      lines.push(this.#line(chunk, start, lf));
      start = lf + 1;
      lf = chunk.indexOf(LF, start);
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      // One octet more than the limit is allowed while waiting: it may be the CR of the line end.
      if (this.#pending + rest > this.#maxLineLength + 1) this.#tooLong(this.#pending + rest);
      // Copied, so a caller that reuses its buffer cannot change what we hold; at most one line long.
      this.#parts.push(Buffer.from(chunk.subarray(start)));
      this.#pending += rest;
    }
    return lines;
  }

  #line(chunk: Buffer, start: number, lf: number): string {
    if (this.#pending === 0) {
      const end = lf > start && chunk[lf - 1] === CR ? lf - 1 : lf;
      if (end - start > this.#maxLineLength) this.#tooLong(end - start);
      return chunk.toString('utf8', start, end);
    }
    this.#parts.push(chunk.subarray(start, lf));
    const whole = Buffer.concat(this.#parts, this.#pending + lf - start);
    this.reset();
    const end = whole.length > 0 && whole[whole.length - 1] === CR ? whole.length - 1 : whole.length;
    if (end > this.#maxLineLength) this.#tooLong(end);
    return whole.toString('utf8', 0, end);
  }

  #tooLong(length: number): never {
    this.reset();
    throw new ProtocolError(
      'EREPLY_TOO_LONG',
      `the peer sent a line of ${length}+ octets; the limit is ${this.#maxLineLength}`,
      { hint: 'the peer may not be an SMTP server, or is misbehaving' },
    );
  }
}
