/**
 * Streaming base64 (RFC 2045 §6.8) in lines of 76 characters joined by CRLF, with no CRLF after the last
 * line (the CRLF before the next boundary, or the one that ends the message, follows it).
 *
 * Speed: each chunk is encoded natively in one call, and the CRLFs are put in by moving whole 76-byte
 * lines inside the output buffer, not character by character. Input is consumed in multiples of 57 bytes (one line) so lines are
 * exact across chunks; the sources hand out chunks of such multiples, so nothing is carried over.
 */
import { Buffer } from 'node:buffer';

export const BASE64_LINE = 76;
const LINE_BYTES = 57;
/** Input encoded per call: 1,536 lines, about 85 KiB (see CHUNK_BYTES in source.ts). */
const BLOCK_BYTES = LINE_BYTES * 1536;
const CR = 0x0d;
const LF = 0x0a;

/** The size of the encoded form of `bytes` input bytes. */
export function base64Size(bytes: number): number {
  if (bytes === 0) return 0;
  const chars = Math.ceil(bytes / 3) * 4;
  return chars + 2 * (Math.ceil(chars / BASE64_LINE) - 1);
}

/**
 * Encodes `block` as lines; with `leadingCrlf` a CRLF comes first (ending the previous block's last line).
 * The base64 text is written once at the end of the output buffer, then each line is moved forward to its
 * place (a line's target never overtakes the text still to be moved), so there is a single allocation.
 */
function encodeLines(block: Buffer, leadingCrlf: boolean): Buffer {
  const text = block.toString('base64');
  const lines = Math.ceil(text.length / BASE64_LINE);
  const lead = leadingCrlf ? 2 : 0;
  const total = lead + text.length + 2 * (lines - 1);
  const out = Buffer.allocUnsafe(total);
  const start = total - text.length;
  out.write(text, start, 'latin1');
  if (leadingCrlf) {
    out[0] = CR;
    out[1] = LF;
  }
  for (let line = 0; line < lines; line++) {
    const from = start + line * BASE64_LINE;
    const to = lead + line * (BASE64_LINE + 2);
    if (line === lines - 1) {
      out.copyWithin(to, from, total);
    } else {
      out.copyWithin(to, from, from + BASE64_LINE);
      out[to + BASE64_LINE] = CR;
      out[to + BASE64_LINE + 1] = LF;
    }
  }
  return out;
}

/**
 * Streaming base64: the bytes of a partial line are carried from one chunk to the next, and every block
 * after the first starts with the CRLF that ends the line before it.
 */
export class Base64Encoder {
  #carry: Buffer = Buffer.alloc(0);
  #started = false;

  /** Encodes `chunk` a block at a time, handing each block of lines to `emit`; `chunk` may be reused then. */
  write(chunk: Buffer, emit: (lines: Buffer) => void): void {
    if (this.#carry.length > 0) {
      // Complete the carried partial line from the front of this chunk.
      const need = LINE_BYTES - this.#carry.length;
      if (chunk.length < need) {
        this.#carry = Buffer.concat([this.#carry, chunk]);
        return;
      }
      emit(this.#encode(Buffer.concat([this.#carry, chunk.subarray(0, need)])));
      chunk = chunk.subarray(need);
    }
    const whole = chunk.length - (chunk.length % LINE_BYTES);
    // Large chunks are encoded a block at a time: the encoded text of a block stays a small string.
    for (let at = 0; at < whole; at += BLOCK_BYTES) {
      emit(this.#encode(chunk.subarray(at, Math.min(at + BLOCK_BYTES, whole))));
    }
    // Copied: the caller may reuse its chunk.
    this.#carry = Buffer.from(chunk.subarray(whole));
  }

  /** Encodes the last, partial line, if any. */
  end(emit: (lines: Buffer) => void): void {
    if (this.#carry.length > 0) emit(this.#encode(this.#carry));
    this.#carry = Buffer.alloc(0);
  }

  #encode(block: Buffer): Buffer {
    const lines = encodeLines(block, this.#started);
    this.#started = true;
    return lines;
  }
}

/**
 * Base64 of a stream of chunks.
 *
 * @example for await (const lines of base64Lines(source.read())) socket.write(lines);
 */
export async function* base64Lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const encoder = new Base64Encoder();
  const blocks: Buffer[] = [];
  const emit = (lines: Buffer): void => {
    blocks.push(lines);
  };
  for await (const chunk of chunks) {
    encoder.write(chunk, emit);
    yield* blocks.splice(0);
  }
  encoder.end(emit);
  yield* blocks;
}

/** Base64 of bytes in memory, as one Buffer of lines. */
export function base64Encode(bytes: Buffer): Buffer {
  return bytes.length === 0 ? Buffer.alloc(0) : encodeLines(bytes, false);
}
