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
import { base64Lines, base64Size } from './base64.js';
import type { LeafPart, Part } from './part.js';

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

async function* partPieces(part: Part): AsyncGenerator<Buffer> {
  yield headerBlock(part);
  if (part.kind === 'leaf') {
    if (part.body.kind === 'bytes') yield part.body.bytes;
    else yield* base64Lines(part.body.source.read());
    return;
  }
  const delimiter = Buffer.from(`--${part.boundary}\r\n`, 'latin1');
  for (const child of part.children) {
    yield delimiter;
    yield* partPieces(child);
    yield CRLF;
  }
  yield Buffer.from(`--${part.boundary}--`, 'latin1');
}

/** The message bytes in chunks, ending with CRLF. */
export async function* renderMessage(root: Part): AsyncGenerator<Buffer> {
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  let last: Buffer = CRLF;
  for await (const piece of partPieces(root)) {
    if (piece.length === 0) continue;
    last = piece;
    if (piece.length >= GATHER_BYTES) {
      if (gatheredBytes > 0) yield Buffer.concat(gathered, gatheredBytes);
      gathered = [];
      gatheredBytes = 0;
      yield piece;
      continue;
    }
    gathered.push(piece);
    gatheredBytes += piece.length;
    if (gatheredBytes >= GATHER_BYTES) {
      yield Buffer.concat(gathered, gatheredBytes);
      gathered = [];
      gatheredBytes = 0;
    }
  }
  const endsWell = last.length >= 2 && last[last.length - 2] === 0x0d && last[last.length - 1] === 0x0a;
  if (!endsWell) {
    gathered.push(CRLF);
    gatheredBytes += 2;
  }
  if (gatheredBytes > 0) yield Buffer.concat(gathered, gatheredBytes);
}
