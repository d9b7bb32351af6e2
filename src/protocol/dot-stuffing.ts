/**
 * The DATA encoder (RFC 5321 §4.5.2): line ends normalised to CRLF, a dot doubled at the start of every
 * line, and the ".\r\n" end-of-data line appended.
 *
 * Normalising bare CR and bare LF is what makes this smuggling-safe: a receiver that treats "\n.\n" or
 * "\r.\r" as the end of data (CVE-2023-51764/5/6) never sees one, because the only line end we emit is
 * CRLF and every line starting with "." gets another. So no input can end the data early.
 */

import { Buffer } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { InputError } from '../core/errors.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
/** Runs up to this long are copied byte by byte: cheaper than creating a view for them. */
const SHORT_RUN = 16;
const EMPTY = Buffer.alloc(0);
/** After a complete line (or for an empty message) the end-of-data line is just ".\r\n". */
const END_AT_LINE_START = Buffer.from('.\r\n');
/** Mid-line the last line is ended first: the CRLF of "<CRLF>.<CRLF>" (RFC 5321 §4.1.1.4). */
const END_MID_LINE = Buffer.from('\r\n.\r\n');

export interface DotStuffOptions {
  /** Double leading dots (default true). False only normalises line ends, for BDAT (RFC 3030). */
  readonly stuff?: boolean;
  /**
   * Append the end-of-data line, after a CRLF if the data did not end with one (default: same as `stuff`).
   * Needs `stuff`: an undoubled body followed by "." could end the data early.
   */
  readonly terminate?: boolean;
}

/**
 * The encoding engine, shared by the stream and the one-shot function. State carried between chunks is
 * two flags, so every chunk boundary (CR | LF, CRLF | ".", CR | ".") gives the same bytes as one chunk.
 *
 * Speed: line ends are found with Buffer#indexOf and only the byte after each is looked at; the runs
 * between changes are copied natively. A chunk that needs no change is returned as it is, without a copy.
 */
class DotStuffEngine {
  readonly #stuff: boolean;
  readonly #terminate: boolean;
  /** The next input byte starts a line. */
  #lineStart = true;
  /** The last byte was a CR, already written as CRLF: a LF right after it belongs to it. */
  #afterCr = false;
  /** Scratch lists for one chunk's insertions, kept to avoid allocating per chunk. */
  readonly #insertAt: number[] = [];
  readonly #insertByte: number[] = [];
  bytesIn = 0;
  bytesOut = 0;

  constructor(options: DotStuffOptions) {
    this.#stuff = options.stuff ?? true;
    this.#terminate = options.terminate ?? this.#stuff;
    if (this.#terminate && !this.#stuff) {
      throw new InputError(
        'EINVALID_ARGUMENT',
        'DotStuffer: terminate needs stuff, or the body could end the data early',
      );
    }
  }

  encode(chunk: Buffer): Buffer {
    const length = chunk.length;
    if (length === 0) return EMPTY;
    this.bytesIn += length;
    const skip = this.#scan(chunk);
    const count = this.#insertAt.length;
    this.bytesOut += length - skip + count;
    if (count === 0) return skip === 0 ? chunk : chunk.subarray(skip);
    return this.#build(chunk, skip);
  }

  /**
   * Finds what to change: each change is one byte inserted before an input position (CR before a bare
   * LF, LF after a bare CR, "." before a leading dot). Returns how many leading bytes to drop: 1 when the
   * chunk opens with the LF of a CR that ended the previous chunk.
   */
  #scan(chunk: Buffer): number {
    const length = chunk.length;
    const insertAt = this.#insertAt;
    const insertByte = this.#insertByte;
    insertAt.length = 0;
    insertByte.length = 0;
    let skip = 0;
    let pos = 0; // where the current line's content starts

    if (this.#afterCr) {
      this.#afterCr = false;
      if (chunk[0] === LF) skip = pos = 1;
    }
    if (this.#lineStart && pos < length) {
      this.#lineStart = false;
      if (this.#stuff && chunk[pos] === DOT) {
        insertAt.push(pos);
        insertByte.push(DOT);
      }
    }

    let nextCr = chunk.indexOf(CR, pos);
    let nextLf = chunk.indexOf(LF, pos);
    while (nextCr !== -1 || nextLf !== -1) {
      if (nextCr !== -1 && (nextLf === -1 || nextCr < nextLf)) {
        pos = nextCr + 1;
        if (pos < length && chunk[pos] === LF) {
          pos += 1; // CRLF: already right
        } else {
          // A bare CR, or a CR ending the chunk: complete it now; a LF opening the next chunk is dropped.
          insertAt.push(pos);
          insertByte.push(LF);
          if (pos === length) this.#afterCr = true;
        }
      } else {
        insertAt.push(nextLf); // a bare LF
        insertByte.push(CR);
        pos = nextLf + 1;
      }
      if (pos === length) {
        this.#lineStart = true;
        break;
      }
      if (this.#stuff && chunk[pos] === DOT) {
        insertAt.push(pos);
        insertByte.push(DOT);
      }
      // Only a cursor that was passed is searched again; one at -1 stays there (no rescans).
      if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
      if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
    }
    return skip;
  }

  /** Copies the input runs between insertions into one new buffer. */
  #build(chunk: Buffer, skip: number): Buffer {
    const insertAt = this.#insertAt;
    const insertByte = this.#insertByte;
    const length = chunk.length;
    const out = Buffer.allocUnsafe(length - skip + insertAt.length);
    // TypedArray#set of a Uint8Array view is the cheapest native copy; short runs are cheaper by hand.
    const source = new Uint8Array(chunk.buffer, chunk.byteOffset, length);
    let target = 0;
    let run = skip;
    for (let i = 0; i < insertAt.length; i++) {
      const at = insertAt[i]!;
      if (at - run > SHORT_RUN) {
        out.set(source.subarray(run, at), target);
        target += at - run;
      } else {
        for (let j = run; j < at; j++) out[target++] = source[j]!;
      }
      out[target++] = insertByte[i]!;
      run = at;
    }
    if (run < length) out.set(source.subarray(run), target);
    return out;
  }

  end(): Buffer {
    if (!this.#terminate) return EMPTY;
    const end = this.#lineStart ? END_AT_LINE_START : END_MID_LINE;
    this.bytesOut += end.length;
    return end;
  }
}

/**
 * A Transform that turns a message into DATA bytes. Pipe the message in and the socket out; the output
 * always ends with the end-of-data line (an empty message gives exactly ".\r\n").
 *
 * @example pipeline(message, new DotStuffer(), socket)
 */
export class DotStuffer extends Transform {
  readonly #engine: DotStuffEngine;

  constructor(options: DotStuffOptions = {}) {
    super();
    this.#engine = new DotStuffEngine(options);
  }

  /** Octets of message read so far. */
  get bytesIn(): number {
    return this.#engine.bytesIn;
  }

  /** Octets written so far, stuffing and the end-of-data line included. */
  get bytesOut(): number {
    return this.#engine.bytesOut;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = this.#engine.encode(chunk);
    if (out.length > 0) this.push(out);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const end = this.#engine.end();
    if (end.length > 0) this.push(end);
    callback();
  }
}

/**
 * The same encoding for a whole message in memory. With `terminate: false` and nothing to change, the
 * input buffer itself is returned.
 *
 * @example dotStuff('.hi\n').toString() // => '..hi\r\n.\r\n'
 */
export function dotStuff(input: Buffer | string, options: DotStuffOptions = {}): Buffer {
  const engine = new DotStuffEngine(options);
  const body = engine.encode(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  const end = engine.end();
  return end.length === 0 ? body : Buffer.concat([body, end]);
}
