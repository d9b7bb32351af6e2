/**
 * Multipart boundaries (RFC 2046 §5.1.1) that cannot occur in the content: "=_" never appears in base64
 * or quoted-printable output (base64 has no "_", and QP writes "=" only before hex digits or a line end),
 * and 7bit/8bit bodies, which can hold anything, are checked. 120 random bits make a guess hopeless and
 * keep two boundaries of one message from being prefixes of each other.
 */
import type { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

/** A fresh boundary, e.g. "=_postern_3kq0Zt9vXbW2mD8yHf1cLs". */
export function makeBoundary(): string {
  return `=_postern_${randomBytes(15).toString('base64url')}`;
}

/** A boundary whose delimiter line ("--" + boundary) occurs in none of the given raw bodies. */
export function boundaryAvoiding(bodies: readonly Buffer[]): string {
  for (;;) {
    const boundary = makeBoundary();
    const delimiter = `--${boundary}`;
    if (!bodies.some((body) => body.includes(delimiter))) return boundary;
  }
}
