/**
 * The header half of DKIM signing (RFC 6376 §3.7, §5.4–5.6): choose the fields, hash them with the new
 * DKIM-Signature field (b= empty) and sign. rsa-sha256 is RSASSA-PKCS1-v1_5 over SHA-256; ed25519-sha256
 * is PureEdDSA over the SHA-256 digest of the same data (RFC 8463 §3).
 */

import { Buffer } from 'node:buffer';
import { createHash, sign } from 'node:crypto';
import { InputError } from '../../core/errors.js';
import {
  canonicalizeHeaderField,
  countFields,
  type HeaderField,
  parseHeaderFields,
  selectSignedFields,
} from './header-fields.js';
import { normalizeLineEnds } from './line-endings.js';
import { type DkimOptions, type DkimSigner, resolveDkimOptions } from './options.js';
import { buildSignatureField } from './signature-field.js';

const SHA256_LENGTH = 32;

/**
 * Signs a header section for a body hash computed elsewhere (e.g. with DkimBodyHasher). Returns the
 * complete "DKIM-Signature: …\r\n" field, folded at 78 columns, to put before the header section.
 * Bare CR or LF in `headerBlock` count as CRLF: the message must then be sent with CRLF there.
 *
 * @example
 * const field = signHeaders(headerBlock, hasher.digest(), { domainName: 'example.com', keySelector: 's1', privateKey });
 */
export function signHeaders(
  headerBlock: Buffer,
  bodyHash: Buffer,
  options: DkimOptions,
  now = new Date(),
): string {
  if (!Buffer.isBuffer(headerBlock)) {
    throw new InputError('EINVALID_ARGUMENT', 'signHeaders: headerBlock must be a Buffer');
  }
  return signHeaderFields(
    parseHeaderFields(normalizeLineEnds(headerBlock)),
    bodyHash,
    resolveDkimOptions(options),
    now,
  );
}

/** signHeaders for already parsed fields and resolved options (dkimSign signs one header section many times). */
export function signHeaderFields(
  fields: readonly HeaderField[],
  bodyHash: Buffer,
  signer: DkimSigner,
  now: Date,
): string {
  if (!Buffer.isBuffer(bodyHash) || bodyHash.length !== SHA256_LENGTH) {
    throw new InputError('EINVALID_ARGUMENT', 'DKIM bodyHash must be a 32-byte SHA-256 digest');
  }
  const time = now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(time))
    throw new InputError('EINVALID_ARGUMENT', 'DKIM signing time must be a valid Date');
  const counts = countFields(fields);
  if (!counts.has('from')) {
    throw new InputError(
      'EINVALID_ARGUMENT',
      'cannot DKIM-sign a message without a From field (RFC 6376 §5.4)',
    );
  }
  // Each listed name once per instance present; over-signed names once more (RFC 6376 §8.15).
  const signedNames = signer.signedNames.flatMap((name) => {
    const times = (counts.get(name) ?? 0) + (signer.overSigned.has(name) ? 1 : 0);
    return Array<string>(times).fill(name);
  });
  const timestamp = Math.floor(time / 1000);
  const field = buildSignatureField({
    algorithm: signer.algorithm,
    canonicalization: signer.canonicalization,
    domain: signer.domain,
    selector: signer.selector,
    timestamp,
    expires: signer.expiresIn === undefined ? undefined : timestamp + signer.expiresIn,
    identity: signer.identity,
    signedNames,
    bodyHash: bodyHash.toString('base64'),
  });
  const hashed: Buffer[] = [];
  for (const selected of selectSignedFields(fields, signedNames)) {
    if (selected) hashed.push(canonicalizeHeaderField(selected.raw, signer.headerCanon));
  }
  // The signature field itself comes last, canonicalised like the others but without its CRLF.
  const own = canonicalizeHeaderField(Buffer.from(`${field.prefix}\r\n`, 'latin1'), signer.headerCanon);
  hashed.push(own.subarray(0, own.length - 2));
  const data = Buffer.concat(hashed);
  const signature =
    signer.algorithm === 'rsa-sha256'
      ? sign('sha256', data, signer.key)
      : sign(null, createHash('sha256').update(data).digest(), signer.key);
  return field.complete(signature.toString('base64'));
}
