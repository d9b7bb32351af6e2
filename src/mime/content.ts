/**
 * Resolving what the caller gave as a body or attachment (string, bytes, stream, or a file path) into
 * bytes in memory or a re-readable source.
 */
import { Buffer } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { describeType, shown } from './input.js';
import type { Content } from './message.js';
import { type ContentSource, FileSource } from './source.js';
import { SpillSource } from './spill.js';

export type Resolved =
  | { readonly kind: 'memory'; readonly bytes: Buffer }
  | { readonly kind: 'source'; readonly source: ContentSource };

export interface ContentInput {
  readonly content?: Content | undefined;
  readonly path?: string | undefined;
  readonly encoding?: BufferEncoding | undefined;
}

/** Streams (a Readable, or any async iterable of bytes). Checked before `{ path }`: fs.ReadStream has one. */
function isStream(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

async function fromPath(path: unknown, what: string): Promise<Resolved> {
  if (typeof path !== 'string' || path === '') {
    throw new InputError('EINVALID_ARGUMENT', `the path of ${what} must be a non-empty string`);
  }
  return { kind: 'source', source: await FileSource.open(path, what) };
}

/**
 * The bytes of a body or attachment. Streams become SpillSources, which are added to `owned` so that
 * the composed message can release them.
 */
export async function resolveContent(
  input: ContentInput,
  what: string,
  owned: ContentSource[],
): Promise<Resolved> {
  const { content, path, encoding } = input;
  if (content !== undefined && path !== undefined) {
    throw new InputError('EINVALID_ARGUMENT', `${what} has both content and path; give one`);
  }
  if (content === undefined) {
    if (path === undefined) throw new InputError('EINVALID_ARGUMENT', `${what} has no content and no path`);
    return fromPath(path, what);
  }
  if (typeof content === 'string') {
    if (encoding !== undefined && !Buffer.isEncoding(encoding)) {
      throw new InputError('EINVALID_ARGUMENT', `${what} has an unknown encoding ${shown(String(encoding))}`);
    }
    return { kind: 'memory', bytes: Buffer.from(content, encoding ?? 'utf8') };
  }
  if (content instanceof Uint8Array) {
    return { kind: 'memory', bytes: Buffer.from(content.buffer, content.byteOffset, content.byteLength) };
  }
  if (isStream(content)) {
    const source = new SpillSource(content);
    owned.push(source);
    return { kind: 'source', source };
  }
  if (typeof content === 'object' && content !== null && 'path' in content)
    return fromPath(content.path, what);
  throw new InputError(
    'EINVALID_ARGUMENT',
    `the content of ${what} must be a string, bytes, a stream or { path }, not ${describeType(content)}`,
  );
}
