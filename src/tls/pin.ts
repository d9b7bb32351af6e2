/**
 * SPKI pinning: "sha256/BASE64" pins (the HPKP / curl `--pinnedpubkey` form) over the SubjectPublicKeyInfo.
 * Pinning the key rather than the certificate survives renewals that keep the key.
 */
import { createHash, X509Certificate } from 'node:crypto';

/**
 * Base64 SHA-256 of the certificate's SubjectPublicKeyInfo DER.
 *
 * @example spkiSha256(readFileSync('server.pem', 'utf8')) // "q2f…=" — pin it as "sha256/q2f…="
 */
export function spkiSha256(cert: Buffer | string): string {
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Parses one pin ("sha256/BASE64" or bare base64) into its base64 digest; throws on anything else. */
export function parsePin(pin: string): string {
  const trimmed = pin.trim();
  const slash = trimmed.indexOf('/');
  const prefix = slash > 0 ? trimmed.slice(0, slash) : '';
  // base64 itself may contain "/", so only a known algorithm label counts as a prefix.
  const body = prefix.toLowerCase() === 'sha256' ? trimmed.slice(slash + 1) : trimmed;
  const bytes = Buffer.from(body, 'base64');
  // Buffer.from ignores junk characters, so a round trip is what proves the text was base64 (padding optional).
  if (bytes.length !== 32 || bytes.toString('base64').replace(/=+$/, '') !== body.replace(/=+$/, '')) {
    throw new TypeError(
      `not a SHA-256 SPKI pin: ${JSON.stringify(pin)} (expected "sha256/" + 44 base64 characters)`,
    );
  }
  return bytes.toString('base64');
}

/** Normalises one pin or several into a list of base64 digests. */
export function parsePins(pins: string | readonly string[]): string[] {
  return (typeof pins === 'string' ? [pins] : [...pins]).map(parsePin);
}

/** True when the certificate's SPKI hash equals any of `pins`. An empty pin list matches nothing. */
export function checkPins(cert: Buffer | string, pins: string | readonly string[]): boolean {
  const actual = spkiSha256(cert);
  return parsePins(pins).includes(actual);
}
