/**
 * A plain, printable description of a certificate, for transcripts, `postern audit` and error messages.
 */
import { X509Certificate } from 'node:crypto';
import { spkiSha256 } from './pin.js';
import { parseCertificate, signatureAlgorithmName, subjectAltNames } from './x509-der.js';

export interface CertificateInfo {
  /** One line, most specific last as OpenSSL prints it, e.g. "O=Example, CN=mail.example.com". */
  readonly subject: string;
  readonly issuer: string;
  /** "DNS:name", "IP:address", "email:x", "URI:x". */
  readonly altNames: readonly string[];
  readonly validFrom: Date;
  readonly validTo: Date;
  /** Whole days until `validTo`; negative once expired. */
  readonly daysLeft: number;
  /** Issued by itself (issuer = subject and its own key verifies the signature). */
  readonly selfSigned: boolean;
  readonly isCa: boolean;
  /** node:crypto's key type: 'rsa', 'rsa-pss', 'ec', 'ed25519', 'ed448', 'dsa'. */
  readonly keyType: string;
  /** RSA/DSA modulus size, or the EC curve size. */
  readonly keyBits?: number | undefined;
  /** EC curve name as OpenSSL spells it (prime256v1, secp384r1, …). */
  readonly curve?: string | undefined;
  /** e.g. "ecdsa-with-SHA256", "sha256WithRSAEncryption", "Ed25519". */
  readonly signatureAlgorithm: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as browsers show it). */
  readonly fingerprintSha256: string;
  /** Base64 SHA-256 of the SubjectPublicKeyInfo — the value for a "sha256/…" pin. */
  readonly spkiSha256: string;
  /** Upper-case hex. */
  readonly serialNumber: string;
}

const DAY_MS = 86_400_000;
const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/**
 * Describes a DER certificate (e.g. `tlsSocket.getPeerCertificate().raw`).
 *
 * @example describeCertificate(socket.getPeerCertificate().raw).daysLeft // 42
 */
export function describeCertificate(der: Buffer, now: Date = new Date()): CertificateInfo {
  const x = new X509Certificate(der);
  const parsed = parseCertificate(x.raw);
  const key = x.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  const validTo = new Date(x.validTo);
  let selfSigned = false;
  try {
    // Not checkIssued(): OpenSSL's version also demands keyCertSign, which self-signed leaves often lack.
    selfSigned = x.subject === x.issuer && x.verify(key);
  } catch {
    selfSigned = false;
  }
  return {
    subject: oneLine(x.subject),
    issuer: oneLine(x.issuer),
    altNames: subjectAltNames(parsed),
    validFrom: new Date(x.validFrom),
    validTo,
    daysLeft: Math.floor((validTo.getTime() - now.getTime()) / DAY_MS),
    selfSigned,
    isCa: x.ca,
    keyType: key.asymmetricKeyType ?? 'unknown',
    keyBits: details.modulusLength ?? (curve ? CURVE_BITS[curve] : undefined),
    curve,
    signatureAlgorithm: signatureAlgorithmName(parsed),
    fingerprintSha256: x.fingerprint256,
    spkiSha256: spkiSha256(x.raw),
    serialNumber: x.serialNumber.toUpperCase(),
  };
}
