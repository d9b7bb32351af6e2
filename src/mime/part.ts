/**
 * The tree a message becomes: leaves with their header fields and encoded body, and multiparts with a
 * boundary. Everything in it is fixed when `compose()` returns (header text, boundaries, which source
 * feeds which leaf), which is why rendering it twice gives the same bytes.
 */
import type { Buffer } from 'node:buffer';
import type { ContentSource } from './source.js';

/** An encoded body: bytes ready to write, or a source base64-encoded as it is written. */
export type Body =
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'base64'; readonly source: ContentSource };

export interface LeafPart {
  readonly kind: 'leaf';
  /** Header fields, each line ending CRLF (no blank line). */
  readonly headers: string;
  readonly body: Body;
  /** The body is sent as 8bit. */
  readonly eightBit: boolean;
}

export interface MultiPart {
  readonly kind: 'multipart';
  readonly headers: string;
  readonly boundary: string;
  readonly children: readonly Part[];
}

export type Part = LeafPart | MultiPart;

/** The same part with header fields put before its own (the message header on the root part). */
export function withHeadersBefore(part: Part, headers: string): Part {
  return { ...part, headers: headers + part.headers };
}

export function* leavesOf(part: Part): Generator<LeafPart> {
  if (part.kind === 'leaf') yield part;
  else for (const child of part.children) yield* leavesOf(child);
}
