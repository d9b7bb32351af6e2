/**
 * DKIM body canonicalisation (RFC 6376 §3.4.3 simple, §3.4.4 relaxed), streamed.
 *
 * Input is CRLF-normalised (see line-endings.ts): every CR is followed by LF in the same chunk. Output goes
 * to a sink (a hash) once per chunk: a clean chunk — base64 lines, plain text with single spaces — as the
 * input itself, without a copy; a chunk with changes as its canonical pieces gathered in a scratch buffer
 * (one hash call instead of one per piece). The only state carried
 * between chunks is what may still be dropped: line ends that could be trailing empty lines, and a
 * whitespace run that could be trailing.
 */

import { Buffer } from 'node:buffer';

export type BodyCanonicalization = 'simple' | 'relaxed';

/** Receives canonical bytes; must use them before returning (the bytes may be a reused buffer). */
export type Sink = (bytes: Buffer) => void;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const CRLF = Buffer.from('\r\n');
const ONE_SP = Buffer.from(' ');
const DOUBLE_SP = Buffer.from('  ');
/** Pieces up to this long are copied byte by byte: cheaper than a native copy call. */
const SHORT_COPY = 32;
const CRLF_RUN = Buffer.from('\r\n'.repeat(2048));

export interface BodyCanonicalizer {
  /** Feeds CRLF-normalised bytes. */
  update(data: Buffer): void;
  /** Ends the body; feeds the last bytes (if any) to the sink. */
  finish(): void;
}

export function createBodyCanonicalizer(kind: BodyCanonicalization, sink: Sink): BodyCanonicalizer {
  return kind === 'simple' ? new SimpleBody(sink) : new RelaxedBody(sink);
}

/** Writes `count` CRLFs from a constant buffer. */
function emitLineEnds(sink: Sink, count: number): void {
  let left = count;
  while (left > 0) {
    const n = Math.min(left, CRLF_RUN.length / 2);
    sink(CRLF_RUN.subarray(0, 2 * n));
    left -= n;
  }
}

/**
 * §3.4.3: the body as it is, except that "*CRLF" at the end becomes one CRLF (an empty body is CRLF).
 * Streaming: CRLFs at the end of a chunk are held as a count and written once something else follows.
 * The one CRLF written at the end is then either the last line's terminator or the empty body's CRLF;
 * a body that does not end in CRLF gets it added, as §3.4.3 says.
 */
class SimpleBody implements BodyCanonicalizer {
  readonly #sink: Sink;
  #heldLineEnds = 0;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  update(data: Buffer): void {
    let j = data.length;
    while (j >= 2 && data[j - 1] === LF && data[j - 2] === CR) j -= 2;
    if (j === 0) {
      this.#heldLineEnds += data.length / 2;
      return;
    }
    emitLineEnds(this.#sink, this.#heldLineEnds);
    this.#sink(j === data.length ? data : data.subarray(0, j));
    this.#heldLineEnds = (data.length - j) / 2;
  }

  finish(): void {
    this.#sink(CRLF);
    this.#heldLineEnds = 0;
  }
}

/**
 * §3.4.4 with erratum 1384's order: first whitespace (trailing WSP removed, every other WSP run one SP),
 * then trailing empty lines dropped — so a line of only spaces counts as empty. An empty body stays empty
 * and a non-empty body not ending in CRLF gets one.
 *
 * Per line, only the spots that change are visited: a TAB or a double SP (found with native searches)
 * and the whitespace before the line end (found from the end). Single spaces between words are already
 * canonical and pass through inside the views. The output of one chunk is a series of input views: a
 * "segment" [segStart, segEnd) grows while the canonical bytes are exactly the input bytes.
 */
class RelaxedBody implements BodyCanonicalizer {
  readonly #sink: Sink;
  /** Line ends not written yet: they are trailing empty lines unless content follows. */
  #heldLineEnds = 0;
  /** Where the held line ends start in the current chunk, when they are contiguous CRLFs there; else -1. */
  #heldAt = -1;
  /** A WSP run that becomes one SP if content follows on its line, nothing if the line ends. */
  #heldSpace = false;
  #anyContent = false;
  #data: Buffer = CRLF;
  #segStart = 0;
  #segEnd = 0;
  /** The chunk's output so far when it is one piece: written as a view, without a copy. */
  #single: Buffer | undefined;
  /** The chunk's output once it has several pieces: copied here and hashed in one call. */
  #scratch: Buffer = Buffer.alloc(0);
  #scratchLength = 0;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  update(data: Buffer): void {
    const n = data.length;
    if (n === 0) return;
    this.#data = data;
    this.#segStart = 0;
    this.#segEnd = 0;
    // Next CR, TAB and double SP at or after i; n when there is none. Cached, so a chunk without tabs
    // searches for one once.
    let nextCr = -1;
    let nextTab = -1;
    let nextDouble = -1;
    let i = 0;
    while (i < n) {
      if (nextCr < i) nextCr = indexOr(data, CR, i, n);
      const end = nextCr; // the line's CR, or n for a line that goes on in the next chunk
      if (this.#heldSpace) while (i < end && isWsp(data[i])) i++; // the held run continues
      let last = end;
      while (last > i && isWsp(data[last - 1])) last--;
      while (i < last) {
        if (nextTab < i) nextTab = indexOr(data, TAB, i, n);
        if (nextDouble < i) nextDouble = indexOr(data, DOUBLE_SP, i, n);
        const spot = Math.min(nextTab, nextDouble);
        if (spot >= last) {
          this.#content(i, last);
          break;
        }
        let runStart = spot;
        while (runStart > i && isWsp(data[runStart - 1])) runStart--;
        let runEnd = spot + 1;
        while (isWsp(data[runEnd])) runEnd++; // stops before `last`, which follows a non-WSP byte
        if (runStart > i) this.#content(i, runStart);
        this.#heldSpace = true;
        i = runEnd;
      }
      if (end === n) {
        if (last < n) this.#heldSpace = true; // may be trailing: the next chunk decides
        break;
      }
      this.#heldSpace = false; // trailing whitespace: dropped
      this.#lineEnd(end);
      i = end + 2;
    }
    this.#flush();
    this.#heldAt = -1;
    this.#writeOut();
  }

  finish(): void {
    if (this.#anyContent) this.#sink(CRLF);
    this.#heldLineEnds = 0;
    this.#heldSpace = false;
    this.#anyContent = false;
  }

  /** Canonical bytes [from, to), ending in non-WSP: whatever was held (line ends, a space) was not trailing. */
  #content(from: number, to: number): void {
    if (this.#heldLineEnds > 0) {
      if (this.#heldAt >= 0) this.#verbatim(this.#heldAt, this.#heldAt + 2 * this.#heldLineEnds);
      else this.#literalLineEnds(this.#heldLineEnds);
      this.#heldLineEnds = 0;
      this.#heldAt = -1;
    }
    if (this.#heldSpace) {
      this.#literal(ONE_SP);
      this.#heldSpace = false;
    }
    this.#verbatim(from, to);
    this.#anyContent = true;
  }

  /** The CRLF at `cr` ends a line; it is held. Held CRLFs stay verbatim while they are back to back. */
  #lineEnd(cr: number): void {
    if (this.#heldLineEnds === 0) this.#heldAt = cr;
    else if (this.#heldAt >= 0 && this.#heldAt + 2 * this.#heldLineEnds !== cr) this.#heldAt = -1;
    this.#heldLineEnds++;
  }

  #verbatim(from: number, to: number): void {
    if (from === this.#segEnd) {
      this.#segEnd = to;
      return;
    }
    this.#flush();
    this.#segStart = from;
    this.#segEnd = to;
  }

  #literal(bytes: Buffer): void {
    this.#flush();
    this.#put(bytes, 0, bytes.length);
    // No input position equals -1, so the next verbatim run starts a new segment.
    this.#segStart = -1;
    this.#segEnd = -1;
  }

  #literalLineEnds(count: number): void {
    if (count * 2 <= CRLF_RUN.length) {
      this.#literal(CRLF_RUN.subarray(0, count * 2));
      return;
    }
    // Thousands of held empty lines: written straight out rather than copied.
    this.#flush();
    this.#writeOut();
    emitLineEnds(this.#sink, count);
    this.#segStart = -1;
    this.#segEnd = -1;
  }

  #flush(): void {
    if (this.#segEnd > this.#segStart) this.#put(this.#data, this.#segStart, this.#segEnd);
    this.#segStart = this.#segEnd;
  }

  /** Adds output bytes; a chunk's only piece stays a view, further pieces are gathered by copying. */
  #put(source: Buffer, from: number, to: number): void {
    if (this.#single === undefined && this.#scratchLength === 0) {
      this.#single = from === 0 && to === source.length ? source : source.subarray(from, to);
      return;
    }
    if (this.#single !== undefined) {
      const single = this.#single;
      this.#single = undefined;
      this.#copy(single, 0, single.length);
    }
    this.#copy(source, from, to);
  }

  #copy(source: Buffer, from: number, to: number): void {
    const length = to - from;
    if (this.#scratchLength + length > this.#scratch.length) {
      const grown = Buffer.allocUnsafe(
        Math.max(2 * this.#scratch.length, this.#scratchLength + length, 4096),
      );
      this.#scratch.copy(grown, 0, 0, this.#scratchLength);
      this.#scratch = grown;
    }
    const scratch = this.#scratch;
    let o = this.#scratchLength;
    if (length <= SHORT_COPY) {
      for (let k = from; k < to; k++) scratch[o++] = source[k]!;
    } else {
      o += source.copy(scratch, o, from, to);
    }
    this.#scratchLength = o;
  }

  #writeOut(): void {
    if (this.#single !== undefined) {
      this.#sink(this.#single);
      this.#single = undefined;
    } else if (this.#scratchLength > 0) {
      this.#sink(this.#scratch.subarray(0, this.#scratchLength));
      this.#scratchLength = 0;
    }
  }
}

function isWsp(byte: number | undefined): boolean {
  return byte === SP || byte === TAB;
}

function indexOr(data: Buffer, needle: number | Buffer, from: number, end: number): number {
  const at = data.indexOf(needle, from);
  return at === -1 ? end : at;
}
