/**
 * DKIM-signs a streamed message of any size in two passes over a replayable source.
 *
 * DKIM-Signature goes before the header section, yet bh= is known only after the last body byte. So the
 * first pass hashes the body (keeping only the header section, at most 1 MiB) and the second streams the
 * signed message: the DKIM-Signature field(s), then the message again. Memory stays flat whatever the size.
 */

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { InputError } from '../../core/errors.js';
import { type BodyCanonicalization, createBodyCanonicalizer } from './body-canonicalization.js';
import { parseHeaderFields } from './header-fields.js';
import { CrlfNormalizer } from './line-endings.js';
import { type DkimOptions, type DkimSigner, resolveDkimOptions } from './options.js';
import { signHeaderFields } from './sign-headers.js';

/** The header section is kept in memory; a larger one is refused rather than buffered. */
export const MAX_HEADER_SECTION_BYTES = 1024 * 1024;

const CRLF = Buffer.from('\r\n');
const SEPARATOR = Buffer.from('\r\n\r\n');

export type MessageSource = () => Readable | Promise<Readable>;

/**
 * Reads `open()` once to hash the body and capture the header section, then opens it again and streams the
 * signed message: DKIM-Signature field(s) followed by the original bytes. Several option sets give several
 * signatures (e.g. rsa-sha256 and ed25519-sha256 side by side, as RFC 8463 §4 suggests).
 *
 * `open` must return the same bytes both times. The second pass checks that (the header section exactly,
 * the rest by length and CRC-32) and fails the stream if they differ. Line ends are emitted as CRLF: a bare
 * CR or LF in the source is hashed and emitted as CRLF, so the output is exactly what was signed.
 * All signatures get the same t=: the time signing started.
 *
 * @example
 * const signed = await dkimSign(() => createReadStream('msg.eml'), [rsaOptions, ed25519Options]);
 * await pipeline(signed, createWriteStream('signed.eml'));
 */
export async function dkimSign(
  open: MessageSource,
  options: DkimOptions | readonly DkimOptions[],
): Promise<Readable> {
  if (typeof open !== 'function')
    throw new InputError('EINVALID_ARGUMENT', 'dkimSign: open must be a function');
  const list: readonly DkimOptions[] = Array.isArray(options) ? options : [options as DkimOptions];
  if (list.length === 0) throw new InputError('EINVALID_ARGUMENT', 'dkimSign: no DKIM options given');
  const signers = list.map(resolveDkimOptions);
  const now = new Date();

  const first = await readFirstPass(await opened(open), new Set(signers.map((s) => s.bodyCanon)));
  const fields = parseHeaderFields(first.headerBlock);
  const prefix = signers.map((signer: DkimSigner) =>
    signHeaderFields(fields, first.bodyHashes.get(signer.bodyCanon)!, signer, now),
  );
  const second = await opened(open);
  const output = Readable.from(
    replay(second, Buffer.from(prefix.join(''), 'latin1'), first.headerBlock, first.rest),
    { objectMode: false },
  );
  // A consumer that gives up before reading must not leave the source open.
  output.once('close', () => second.destroy());
  return output;
}

async function opened(open: MessageSource): Promise<Readable> {
  const stream = await open();
  if (!(stream instanceof Readable)) {
    throw new InputError(
      'EINVALID_ARGUMENT',
      'dkimSign: open() must return a Readable (or a promise of one)',
      {
        hint: 'wrap other sources with Readable.from() or Readable.fromWeb()',
      },
    );
  }
  return stream;
}

interface FirstPass {
  readonly headerBlock: Buffer;
  readonly bodyHashes: ReadonlyMap<BodyCanonicalization, Buffer>;
  /** Of everything after the header section (the blank line and the body). */
  readonly rest: Fingerprint;
}

async function readFirstPass(source: Readable, kinds: ReadonlySet<BodyCanonicalization>): Promise<FirstPass> {
  const normalizer = new CrlfNormalizer();
  const header = new HeaderSection();
  const rest = new Fingerprint();
  const hashes = [...kinds].map((kind) => {
    const hash = createHash('sha256');
    return { kind, hash, body: createBodyCanonicalizer(kind, (bytes) => hash.update(bytes)) };
  });
  const consume = (data: Buffer): void => {
    if (data.length === 0) return;
    let body = data;
    if (header.block === undefined) {
      const after = header.push(data);
      if (after === undefined) return;
      rest.update(CRLF);
      body = after;
    }
    rest.update(body);
    for (const h of hashes) h.body.update(body);
  };
  for await (const chunk of source) consume(normalizer.push(toBuffer(chunk)));
  consume(normalizer.end());
  const headerBlock = header.block ?? header.endWithoutBody();
  const bodyHashes = new Map<BodyCanonicalization, Buffer>();
  for (const h of hashes) {
    h.body.finish();
    bodyHashes.set(h.kind, h.hash.digest());
  }
  return { headerBlock, bodyHashes, rest };
}

/** Finds the end of the header section in CRLF-normalised chunks, keeping at most MAX bytes of it. */
class HeaderSection {
  block: Buffer | undefined;
  readonly #parts: Buffer[] = [];
  #length = 0;
  /**
   * The last bytes seen, to find a separator split across chunks. It starts as a CRLF before the message,
   * so a message that opens with its blank line has an empty header section.
   */
  #tail: Buffer = CRLF;

  /** Takes a chunk; returns the part after the blank line once found, else undefined. */
  push(data: Buffer): Buffer | undefined {
    const search = Buffer.concat([this.#tail, data]);
    const at = search.indexOf(SEPARATOR);
    const before = this.#length;
    this.#parts.push(data);
    this.#length += data.length;
    if (at === -1) {
      if (this.#length > MAX_HEADER_SECTION_BYTES) throw tooLarge();
      this.#tail = search.subarray(Math.max(0, search.length - 3));
      return undefined;
    }
    // Positions counted from the message start; the separator's first CRLF ends the last field.
    const base = before - this.#tail.length;
    const headerEnd = base + at + 2;
    const bodyStart = base + at + 4;
    if (headerEnd > MAX_HEADER_SECTION_BYTES) throw tooLarge();
    this.block = Buffer.concat(this.#parts, this.#length).subarray(0, headerEnd);
    this.#parts.length = 0;
    return data.subarray(bodyStart - before);
  }

  /** At the end of a message without a blank line: all of it is the header section, and the body is empty. */
  endWithoutBody(): Buffer {
    const all = Buffer.concat(this.#parts, this.#length);
    if (all.length > 0 && !all.subarray(-2).equals(CRLF)) {
      throw new InputError(
        'EINVALID_ARGUMENT',
        'cannot DKIM-sign: the message has no body and does not end with CRLF',
      );
    }
    this.block = all;
    return all;
  }
}

function tooLarge(): InputError {
  return new InputError(
    'EINVALID_ARGUMENT',
    `cannot DKIM-sign: the header section is larger than ${MAX_HEADER_SECTION_BYTES} bytes (or has no blank line before the body)`,
  );
}

/**
 * The second pass: checks the header section against the one signed, emits signature fields and header
 * section, then the rest while checking it against the first pass's length and CRC-32.
 */
async function* replay(source: Readable, signatures: Buffer, headerBlock: Buffer, expected: Fingerprint) {
  const normalizer = new CrlfNormalizer();
  const rest = new Fingerprint();
  let compared = 0;
  function* take(input: Buffer): Generator<Buffer> {
    let data = input;
    if (compared < headerBlock.length) {
      const n = Math.min(headerBlock.length - compared, data.length);
      if (!data.subarray(0, n).equals(headerBlock.subarray(compared, compared + n)))
        throw changed('header section');
      compared += n;
      data = data.subarray(n);
      if (compared < headerBlock.length) return;
      yield Buffer.concat([signatures, headerBlock]);
    }
    if (data.length === 0) return;
    rest.update(data);
    yield data;
  }
  if (headerBlock.length === 0) yield signatures;
  for await (const chunk of source) yield* take(normalizer.push(toBuffer(chunk)));
  yield* take(normalizer.end());
  if (compared < headerBlock.length) throw changed('header section');
  if (!rest.equals(expected)) throw changed('body');
}

function changed(part: string): InputError {
  return new InputError(
    'EINVALID_ARGUMENT',
    `dkimSign: open() returned a different ${part} the second time, so the signature would not verify`,
    { hint: 'open() must replay identical bytes (same boundaries, Message-ID and Date)' },
  );
}

const crc32: ((data: Buffer, value?: number) => number) | undefined =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

/** Length and CRC-32 (Node ≥ 20.15; length only before): cheap enough to run over every byte twice. */
class Fingerprint {
  length = 0;
  crc = 0;

  update(data: Buffer): void {
    this.length += data.length;
    if (crc32) this.crc = crc32(data, this.crc);
  }

  equals(other: Fingerprint): boolean {
    return this.length === other.length && this.crc === other.crc;
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new InputError('EINVALID_ARGUMENT', 'dkimSign: the message stream must yield bytes');
}
