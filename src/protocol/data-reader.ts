/**
 * The receiving half of DATA (RFC 5321 §4.5.2, §4.1.1.4): finds the end-of-data line and removes the
 * dot-stuffing, as a byte-level state machine that gives the same result however the input is split.
 *
 * Only CRLF "." CRLF ends the data. A bare LF or a bare CR is never a line end that could end it: that
 * disagreement between hops is SMTP smuggling (SEC Consult 2023, CVE-2023-51764/5/6). With the policy
 * 'reject' (the default) the first bare CR or LF stops the reader; the server refuses the message and
 * drops the connection, as Postfix (smtpd_forbid_bare_newline) and Sendmail do. With 'normalize' it is
 * stored as CRLF and still counts as a line end for un-stuffing, but never for the end of data.
 */

import { Buffer } from 'node:buffer';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CR_BYTE = Buffer.from([CR]);
const LF_BYTE = Buffer.from([LF]);
const CRLF = Buffer.from([CR, LF]);

export type BareLineEndingPolicy = 'reject' | 'normalize';
export type BareLineEnding = 'bare-lf' | 'bare-cr';

export interface DataReaderOptions {
  /** What to do with a CR or LF that is not part of a CRLF: 'reject' (default) or 'normalize' to CRLF. */
  readonly bareLineEndings?: BareLineEndingPolicy;
}

export interface DataReadResult {
  /** Message bytes from this chunk, un-stuffed, in order (views into the chunk where possible). */
  readonly data: readonly Buffer[];
  /** Set once the end-of-data line was read: the bytes after it, which are the next commands. */
  readonly rest: Buffer | undefined;
  /** Set under 'reject' at the first bare CR or LF; the reader accepts no more input after it. */
  readonly violation: BareLineEnding | undefined;
}

/** Where the reader is within a line. The CR of a line end is emitted when seen; a held dot is not. */
const At = {
  /** At the start of a line (after CRLF, or at the very beginning). */
  LineStart: 0,
  /** A line that began with ".": the dot is held back (stuffing or the end-of-data line). */
  Dot: 1,
  /** ".\r" at the start of a line: the end-of-data line if a LF follows. */
  DotCr: 2,
  /** Inside a line. */
  Middle: 3,
  /** Just after a CR (already emitted) inside a line. */
  Cr: 4,
} as const;
type At = (typeof At)[keyof typeof At];

/**
 * Feed it the bytes after the 354 reply until `rest` is set.
 *
 * @example
 * const reader = new DataReader();
 * reader.push(Buffer.from('Hi\r\n..dot\r\n.\r\nQUIT\r\n')) // data: 'Hi\r\n' '.dot\r\n'; rest: 'QUIT\r\n'
 */
export class DataReader {
  readonly #normalize: boolean;
  #at: At = At.LineStart;
  /** The current line started after a normalised bare CR or LF: it cannot be the end-of-data line. */
  #soft = false;
  #finished = false;
  #bytes = 0;

  constructor(options: DataReaderOptions = {}) {
    this.#normalize = options.bareLineEndings === 'normalize';
  }

  /** Octets of message returned so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once the end of data or a violation was found. */
  get finished(): boolean {
    return this.#finished;
  }

  push(chunk: Buffer): DataReadResult {
    if (this.#finished) throw new Error('DataReader: push() after the end of data');
    // The helpers are methods, not closures: closures over these locals would move them into a heap
    // context that every step of the loop below reads and writes (and cost three allocations per chunk).
    const out: Buffer[] = [];
    const length = chunk.length;
    let pos = 0;
    let runStart = 0;
    // Cached search results; -1 means "none left in this chunk" and is never searched again.
    let nextCr = -2;
    let nextLf = -2;

    while (pos < length) {
      switch (this.#at) {
        case At.LineStart:
          if (chunk[pos] === DOT) {
            this.#flush(out, chunk, runStart, pos);
            pos += 1;
            runStart = pos;
            this.#at = At.Dot;
          } else {
            this.#at = At.Middle;
          }
          break;
        case At.Dot:
          if (chunk[pos] === CR) {
            pos += 1;
            runStart = pos;
            this.#at = At.DotCr;
          } else {
            this.#at = At.Middle; // the dot was stuffing: it stays dropped
          }
          break;
        case At.DotCr: {
          const lf = chunk[pos] === LF;
          if (lf && !this.#soft) return this.#finish(out, undefined, chunk.subarray(pos + 1));
          if (!lf && !this.#normalize) return this.#finish(out, 'bare-cr', undefined);
          // A "." line that cannot end the data (it began after a normalised line end), or "." and a
          // normalised bare CR: either way the dot was stuffing and the line end becomes CRLF.
          this.#emit(out, CRLF);
          if (lf) pos += 1;
          this.#soft = !lf;
          runStart = pos;
          this.#at = At.LineStart;
          break;
        }
        case At.Cr:
          if (chunk[pos] === LF) {
            pos += 1;
            this.#soft = false;
            this.#at = At.LineStart;
          } else {
            if (!this.#normalize) {
              this.#flush(out, chunk, runStart, pos);
              return this.#finish(out, 'bare-cr', undefined);
            }
            this.#flush(out, chunk, runStart, pos);
            this.#emit(out, LF_BYTE);
            runStart = pos;
            this.#soft = true;
            this.#at = At.LineStart;
          }
          break;
        case At.Middle: {
          if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
          if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
          if (nextCr === -1 && nextLf === -1) {
            pos = length;
          } else if (nextLf !== -1 && (nextCr === -1 || nextLf < nextCr)) {
            if (!this.#normalize) {
              this.#flush(out, chunk, runStart, nextLf);
              return this.#finish(out, 'bare-lf', undefined);
            }
            this.#flush(out, chunk, runStart, nextLf);
            this.#emit(out, CR_BYTE);
            runStart = nextLf; // the LF itself starts the next run
            pos = nextLf + 1;
            this.#soft = true;
            this.#at = At.LineStart;
          } else {
            pos = nextCr + 1;
            this.#at = At.Cr;
          }
          break;
        }
      }
    }
    // A held dot (and CR) lies before runStart: the next chunk decides what it was.
    this.#flush(out, chunk, runStart, length);
    return { data: out, rest: undefined, violation: undefined };
  }

  #emit(out: Buffer[], piece: Buffer): void {
    out.push(piece);
    this.#bytes += piece.length;
  }

  /** Emits the run of plain bytes chunk[start, end). */
  #flush(out: Buffer[], chunk: Buffer, start: number, end: number): void {
    if (end > start) this.#emit(out, chunk.subarray(start, end));
  }

  #finish(out: Buffer[], violation: BareLineEnding | undefined, rest: Buffer | undefined): DataReadResult {
    this.#finished = true;
    return { data: out, rest, violation };
  }
}
