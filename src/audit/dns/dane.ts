/**
 * DANE for SMTP (RFC 6698, RFC 7671, RFC 7672): TLSA record parameters and matching them against the
 * certificate chain an MX presented.
 *
 * RFC 7672 §3.1.3: SMTP clients treat PKIX-TA(0) and PKIX-EE(1) records as unusable, so only DANE-TA(2) and
 * DANE-EE(3) can match. DANE-EE matches the leaf and ignores names and dates (RFC 7671 §5.1); DANE-TA matches a
 * certificate the server sent above its leaf, which must then chain the leaf to it (RFC 7671 §5.2).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { parseCertificate } from '../../tls/x509-der.js';

export const TLSA_USAGES: Readonly<Record<number, string>> = {
  0: 'PKIX-TA',
  1: 'PKIX-EE',
  2: 'DANE-TA',
  3: 'DANE-EE',
};
export const TLSA_SELECTORS: Readonly<Record<number, string>> = { 0: 'Cert', 1: 'SPKI' };
export const TLSA_MATCHING_TYPES: Readonly<Record<number, string>> = {
  0: 'Full',
  1: 'SHA2-256',
  2: 'SHA2-512',
};

export interface TlsaRecord {
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  /** The certificate association data, as hex (how reports show it) or bytes. */
  readonly data: string | Uint8Array;
}

const DIGEST_LENGTH: Readonly<Record<number, number>> = { 1: 32, 2: 64 };

function dataBytes(data: string | Uint8Array): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'hex') : Buffer.from(data);
}

/** The record in presentation form, e.g. "3 1 1 0a1b…". */
export function tlsaText(r: TlsaRecord): string {
  const hex = typeof r.data === 'string' ? r.data.toLowerCase() : Buffer.from(r.data).toString('hex');
  return `${r.usage} ${r.selector} ${r.matchingType} ${hex}`;
}

/**
 * Why a record cannot be used for SMTP, or undefined when it can: unknown parameters and wrong digest lengths
 * make a record unusable (RFC 7671 §4.1), and so do the PKIX usages for SMTP (RFC 7672 §3.1.3).
 */
export function tlsaUnusable(r: TlsaRecord): string | undefined {
  if (!(r.usage in TLSA_USAGES)) return `certificate usage ${r.usage} is not defined`;
  if (!(r.selector in TLSA_SELECTORS)) return `selector ${r.selector} is not defined`;
  if (!(r.matchingType in TLSA_MATCHING_TYPES)) return `matching type ${r.matchingType} is not defined`;
  if (typeof r.data === 'string' && !/^(?:[0-9a-fA-F]{2})+$/.test(r.data)) return 'the data is not hex';
  const length = dataBytes(r.data).length;
  const expected = DIGEST_LENGTH[r.matchingType];
  if (expected !== undefined && length !== expected) {
    return `${TLSA_MATCHING_TYPES[r.matchingType]} data of ${length} octets (expected ${expected})`;
  }
  if (length === 0) return 'no certificate association data';
  if (r.usage === 0 || r.usage === 1) {
    return `usage ${r.usage} (${TLSA_USAGES[r.usage]}) is unusable for SMTP (RFC 7672 §3.1.3); use 3 (DANE-EE) or 2 (DANE-TA)`;
  }
  return undefined;
}

/** The bytes a record's selector picks from a certificate: all of it, or its SubjectPublicKeyInfo as encoded. */
function selected(der: Buffer, selector: number): Buffer | undefined {
  if (selector === 0) return der;
  try {
    return parseCertificate(der).spki.raw;
  } catch {
    return undefined;
  }
}

function associationMatches(r: TlsaRecord, der: Buffer): boolean {
  const content = selected(der, r.selector);
  if (!content) return false;
  const want = dataBytes(r.data);
  const have =
    r.matchingType === 0
      ? content
      : createHash(r.matchingType === 1 ? 'sha256' : 'sha512')
          .update(content)
          .digest();
  return have.length === want.length && have.equals(want);
}

function x509(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** Each certificate below `depth` is issued and signed by the next one up. */
function chainsTo(chain: readonly Buffer[], depth: number): boolean {
  for (let i = 0; i < depth; i++) {
    const child = x509(chain[i] as Buffer);
    const parent = x509(chain[i + 1] as Buffer);
    if (!child || !parent || !child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
  }
  return true;
}

export interface DaneMatch {
  /** The record that matched. */
  readonly record: TlsaRecord;
  /** Where in the chain: 0 is the leaf. */
  readonly depth: number;
}

export interface DaneMatchOptions {
  /**
   * The name the leaf must carry under DANE-TA (RFC 7672 §3.2.3: the MX host name); DANE-EE ignores names.
   * Absent: names are not checked.
   */
  readonly host?: string | undefined;
}

/**
 * The first usable record that matches the chain (leaf first, DER), or undefined.
 *
 * @example findDaneMatch([{ usage: 3, selector: 1, matchingType: 1, data: spkiSha256Hex }], [leafDer])
 */
export function findDaneMatch(
  records: readonly TlsaRecord[],
  chain: readonly Buffer[],
  options: DaneMatchOptions = {},
): DaneMatch | undefined {
  const leaf = chain[0];
  if (!leaf) return undefined;
  for (const record of records) {
    if (tlsaUnusable(record) !== undefined) continue;
    if (record.usage === 3) {
      if (associationMatches(record, leaf)) return { record, depth: 0 };
      continue;
    }
    for (let depth = 1; depth < chain.length; depth++) {
      if (!associationMatches(record, chain[depth] as Buffer)) continue;
      if (!chainsTo(chain, depth)) continue;
      if (options.host !== undefined && !x509(leaf)?.checkHost(options.host)) continue;
      return { record, depth };
    }
  }
  return undefined;
}

/**
 * RFC 6698/7671 matching for SMTP: true when a DANE-EE(3) record matches the leaf, or a DANE-TA(2) record
 * matches a certificate above it that the leaf chains to. Selector 0 = full certificate, 1 = SPKI; matching
 * type 0 = exact, 1 = SHA-256, 2 = SHA-512.
 */
export function daneMatches(
  records: readonly TlsaRecord[],
  chain: readonly Buffer[],
  options: DaneMatchOptions = {},
): boolean {
  return findDaneMatch(records, chain, options) !== undefined;
}
