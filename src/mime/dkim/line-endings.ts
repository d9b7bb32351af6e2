/**
 * Line-end normalisation for DKIM: bare CR and bare LF become CRLF, CRLF stays.
 *
 * Verifiers see the message as it arrives over SMTP, where our DATA encoder has already turned every bare
 * CR and LF into CRLF (shared/RFCS.md, SMTP smuggling). Signing the same CRLF form — and emitting exactly
 * the bytes that were hashed — keeps the signature valid whatever line ends the caller used.
 */

import { Buffer } from 'node:buffer';

const CR = 0x0d;
const LF = 0x0a;
const CR_ONLY = Buffer.from([CR]);
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * Streaming normaliser. A chunk that is already CRLF-clean comes back as it is (or as a view without its
 * last byte); only chunks with a bare line end are copied. A CR at the end of a chunk is held back until
 * the next byte says whether it is bare, so every output chunk holds whole CRLF pairs.
 */
export class CrlfNormalizer {
  #pendingCr = false;

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return EMPTY;
    let data = chunk;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      data = Buffer.concat([CR_ONLY, chunk]);
    }
    let end = data.length;
    if (data[end - 1] === CR) {
      this.#pendingCr = true;
      end--;
    }
    const bare = firstBareLineEnd(data, end);
    if (bare === -1) return end === data.length ? data : data.subarray(0, end);
    return rebuild(data, end, bare);
  }

  /** The held-back CR, if the input ended with one: a bare CR, so CRLF. */
  end(): Buffer {
    if (!this.#pendingCr) return EMPTY;
    this.#pendingCr = false;
    return CRLF;
  }
}

/** Normalises a whole buffer at once (header blocks, tests). */
export function normalizeLineEnds(data: Buffer): Buffer {
  const normalizer = new CrlfNormalizer();
  const head = normalizer.push(data);
  const tail = normalizer.end();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/**
 * Index of the first bare CR or LF in data[0, end), or -1. Walks line by line: in a clean line the only
 * CR is the byte right before the LF. Two native searches per line, no per-byte JavaScript.
 * data[end], if present, is a held-back CR: a CR at end - 1 is bare because it is not followed by LF.
 */
function firstBareLineEnd(data: Buffer, end: number): number {
  let pos = 0;
  while (pos < end) {
    let lf = data.indexOf(LF, pos);
    if (lf >= end) lf = -1;
    const cr = data.indexOf(CR, pos);
    if (lf === -1) return cr !== -1 && cr < end ? cr : -1;
    // Clean: the first CR from pos is the byte right before this LF (and lies at or after pos).
    if (lf === pos || cr !== lf - 1) return cr !== -1 && cr < lf ? cr : lf;
    pos = lf + 1;
  }
  return -1;
}

/** The slow path: copies runs between line ends and writes CRLF for every CR, LF or CRLF from `from` on. */
function rebuild(data: Buffer, end: number, from: number): Buffer {
  // Worst case every byte is a bare line end and doubles.
  const out = Buffer.allocUnsafe(from + 2 * (end - from));
  let o = data.copy(out, 0, 0, from);
  let i = from;
  let nextCr = -1;
  let nextLf = -1;
  while (i < end) {
    if (nextCr !== end && nextCr < i) nextCr = indexOr(data, CR, i, end);
    if (nextLf !== end && nextLf < i) nextLf = indexOr(data, LF, i, end);
    const k = Math.min(nextCr, nextLf);
    o += data.copy(out, o, i, k);
    if (k === end) break;
    out[o++] = CR;
    out[o++] = LF;
    i = data[k] === CR && k + 1 < end && data[k + 1] === LF ? k + 2 : k + 1;
  }
  return out.subarray(0, o);
}

function indexOr(data: Buffer, byte: number, from: number, end: number): number {
  const at = data.indexOf(byte, from);
  return at === -1 || at >= end ? end : at;
}
