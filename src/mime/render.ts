/**
 * Writing the part tree as bytes, and counting them beforehand. The layout (RFC 2046 §5.1.1):
 *
 *   part      = header fields CRLF body
 *   multipart = for each child: "--" boundary CRLF part CRLF, then "--" boundary "--"
 *   message   = part, then CRLF unless it already ends with one
 *
 * The CRLF before each delimiter belongs to the delimiter, so a text body comes back exactly as it went in.
 * Small pieces (header blocks, delimiters, short bodies) are gathered into larger chunks before they are
 * passed on; large encoded chunks go through without a copy.
 */
import { Buffer } from 'node:buffer';
import { Base64Encoder, base64Size } from './base64.js';
import type { LeafPart, Part } from './part.js';
import type { ContentSource } from './source.js';

const CRLF = Buffer.from('\r\n', 'latin1');
/** Pieces below this are gathered; a gathered chunk is passed on once it reaches it. */
const GATHER_BYTES = 64 * 1024;

function headerBlock(part: Part): Buffer {
  return Buffer.from(`${part.headers}\r\n`, 'utf8');
}

function bodySize(leaf: LeafPart): number | undefined {
  if (leaf.body.kind === 'bytes') return leaf.body.bytes.length;
  const size = leaf.body.source.size;
  return size === undefined ? undefined : base64Size(size);
}

function partSize(part: Part): number | undefined {
  const head = headerBlock(part).length;
  if (part.kind === 'leaf') {
    const body = bodySize(part);
    return body === undefined ? undefined : head + body;
  }
  const delimiter = 2 + part.boundary.length + 2;
  let total = head;
  for (const child of part.children) {
    const size = partSize(child);
    if (size === undefined) return undefined;
    total += delimiter + size + 2;
  }
  return total + 2 + part.boundary.length + 2;
}

/** Whether the rendered part ends with CRLF, when that is known before rendering. */
function endsWithCrlf(part: Part): boolean | undefined {
  if (part.kind === 'multipart') return false;
  if (part.body.kind === 'bytes') {
    const bytes = part.body.bytes;
    // An empty body leaves the blank line after the header fields last.
    return bytes.length === 0 || (bytes[bytes.length - 2] === 0x0d && bytes[bytes.length - 1] === 0x0a);
  }
  const size = part.body.source.size;
  return size === undefined ? undefined : size === 0;
}

/** The exact number of bytes `renderMessage(root)` gives, or undefined when a source's size is unknown. */
export function messageSize(root: Part): number | undefined {
  const size = partSize(root);
  const ends = endsWithCrlf(root);
  if (size === undefined || ends === undefined) return undefined;
  return ends ? size : size + 2;
}

/** The part's pieces in order, flattened: bytes to write as they are, and sources to write as base64. */
function piecesOf(part: Part, pieces: (Buffer | ContentSource)[]): void {
  pieces.push(headerBlock(part));
  if (part.kind === 'leaf') {
    pieces.push(part.body.kind === 'bytes' ? part.body.bytes : part.body.source);
    return;
  }
  const delimiter = Buffer.from(`--${part.boundary}\r\n`, 'latin1');
  for (const child of part.children) {
    pieces.push(delimiter);
    piecesOf(child, pieces);
    pieces.push(CRLF);
  }
  pieces.push(Buffer.from(`--${part.boundary}--`, 'latin1'));
}

/**
 * The message read a chunk at a time. Pieces in memory (header blocks, delimiters, bodies) are gathered
 * into chunks of at least GATHER_BYTES; sources are read transiently (the encoder copies what it keeps,
 * so a file is read into the same two buffers throughout) and their base64 blocks, which are larger,
 * pass through as they are. Plain methods rather than nested generators: each generator level costs a
 * promise round per chunk, and one large generator is a large compilation for the optimizing compiler.
 */
class MessageReader {
  readonly #pieces: (Buffer | ContentSource)[];
  #next = 0;
  #source: AsyncIterator<Buffer> | undefined;
  #encoder = new Base64Encoder();
  readonly #ready: Buffer[] = [];
  #gathered: Buffer[] = [];
  #gatheredBytes = 0;
  // Whether the last piece ends with CRLF: a flag rather than the piece, so no chunk is kept past its turn.
  #endsWithCrlf = true;
  #ended = false;
  readonly #add = (piece: Buffer): void => this.#gather(piece);

  constructor(root: Part) {
    this.#pieces = [];
    piecesOf(root, this.#pieces);
  }

  /** The next chunk, or undefined after the last. */
  async read(): Promise<Buffer | undefined> {
    while (this.#ready.length === 0) {
      if (this.#source) {
        const next = await this.#source.next();
        if (next.done) {
          this.#source = undefined;
          this.#encoder.end(this.#add);
        } else {
          this.#encoder.write(next.value, this.#add);
        }
      } else if (this.#next < this.#pieces.length) {
        const piece = this.#pieces[this.#next++]!;
        if (piece instanceof Uint8Array) {
          this.#gather(piece);
        } else {
          this.#encoder = new Base64Encoder();
          this.#source = piece.read({ transient: true })[Symbol.asyncIterator]();
        }
      } else if (!this.#ended) {
        this.#ended = true;
        if (!this.#endsWithCrlf) this.#gathered.push(CRLF);
        this.#flush();
      } else {
        return undefined;
      }
    }
    return this.#ready.shift();
  }

  /** Stops a source being read (its file is closed). */
  async close(): Promise<void> {
    const source = this.#source;
    this.#source = undefined;
    await source?.return?.();
  }

  #gather(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#endsWithCrlf =
      piece.length >= 2 && piece[piece.length - 2] === 0x0d && piece[piece.length - 1] === 0x0a;
    if (piece.length >= GATHER_BYTES) {
      this.#flush();
      this.#ready.push(piece);
      return;
    }
    this.#gathered.push(piece);
    this.#gatheredBytes += piece.length;
    if (this.#gatheredBytes >= GATHER_BYTES) this.#flush();
  }

  #flush(): void {
    if (this.#gathered.length === 0) return;
    this.#ready.push(Buffer.concat(this.#gathered));
    this.#gathered = [];
    this.#gatheredBytes = 0;
  }
}

/** The message bytes in chunks, ending with CRLF. */
export async function* renderMessage(root: Part): AsyncGenerator<Buffer> {
  const reader = new MessageReader(root);
  try {
    for (let chunk = await reader.read(); chunk !== undefined; chunk = await reader.read()) yield chunk;
  } finally {
    await reader.close();
  }
}
