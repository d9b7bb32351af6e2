/**
 * The DKIM body hash (the bh= tag, RFC 6376 §3.7) as a Writable: pipe the message body into it, then read
 * `digest()`. Nothing is buffered; any split of the body into chunks gives the same hash.
 */

import { Buffer } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { InputError, PosternError } from '../../core/errors.js';
import {
  type BodyCanonicalization,
  type BodyCanonicalizer,
  createBodyCanonicalizer,
} from './body-canonicalization.js';
import { CrlfNormalizer } from './line-endings.js';

export type DkimHashAlgorithm = 'sha256';

/**
 * Canonicalises and hashes a streamed body: CRLF, bare CR and bare LF all count as CRLF (as after SMTP
 * transfer), trailing empty lines are ignored, and for 'relaxed' whitespace runs become one SP and
 * trailing whitespace goes. The body is what follows the blank line after the header section.
 *
 * @example
 * const hasher = new DkimBodyHasher('relaxed', 'sha256');
 * await pipeline(bodyStream, hasher);
 * const bh = hasher.digest().toString('base64');
 */
export class DkimBodyHasher extends Writable {
  readonly #normalizer = new CrlfNormalizer();
  readonly #hash: Hash;
  readonly #body: BodyCanonicalizer;
  #digest: Buffer | undefined;

  constructor(canonicalization: BodyCanonicalization, algorithm: DkimHashAlgorithm) {
    super({ decodeStrings: true });
    if (canonicalization !== 'simple' && canonicalization !== 'relaxed') {
      throw new InputError('EINVALID_ARGUMENT', "DKIM body canonicalization must be 'simple' or 'relaxed'");
    }
    if (algorithm !== 'sha256') {
      throw new InputError('EINVALID_ARGUMENT', "DKIM body hash algorithm must be 'sha256' (RFC 8301)");
    }
    const hash = createHash('sha256');
    this.#hash = hash;
    this.#body = createBodyCanonicalizer(canonicalization, (bytes) => hash.update(bytes));
  }

  /** The body hash; available once the stream has finished ('finish' emitted, or `pipeline` resolved). */
  digest(): Buffer {
    if (this.#digest === undefined) {
      throw new PosternError('EINVALID_ARGUMENT', 'DkimBodyHasher.digest() called before the body ended', {
        hint: 'call end() (or await pipeline()) first',
      });
    }
    return Buffer.from(this.#digest);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#body.update(this.#normalizer.push(chunk));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#body.update(this.#normalizer.end());
    this.#body.finish();
    this.#digest = this.#hash.digest();
    callback();
  }
}
