/**
 * The X.509 structure (RFC 5280 §4.1) read from DER: the parts node:crypto's X509Certificate does not
 * expose in Node 20 — the signature algorithm, raw names, and extensions such as SAN and SKI.
 */
import { createHash } from 'node:crypto';
import { children, type Node, readNode, readOid, Tag } from './der.js';

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
} as const;

/** Signature algorithm OIDs → readable name and the hash they sign with (undefined for pure EdDSA). */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, { name: string; hash: string | undefined }>> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', hash: undefined }, // hash is in the parameters
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512' },
  '1.2.840.10040.4.3': { name: 'dsa-with-SHA1', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-SHA256', hash: 'sha256' },
  '1.3.101.112': { name: 'Ed25519', hash: undefined },
  '1.3.101.113': { name: 'Ed448', hash: undefined },
};

const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface Extension {
  readonly critical: boolean;
  /** The extnValue OCTET STRING's content: the DER of the extension's own structure. */
  readonly value: Buffer;
}

export interface ParsedCertificate {
  readonly tbs: Node;
  readonly issuer: Node;
  readonly subject: Node;
  readonly spki: Node;
  readonly signatureAlgorithm: { readonly oid: string; readonly parameters: Node | undefined };
  readonly extensions: ReadonlyMap<string, Extension>;
}

/** Splits a DER certificate into the parts tls/ needs; throws RangeError on malformed input. */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const [tbs, sigAlg] = children(readNode(der));
  if (!tbs || !sigAlg || tbs.tag !== Tag.SEQUENCE) throw new RangeError('not an X.509 certificate');
  const fields = children(tbs);
  // version [0] is absent in v1 certificates
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = fields[base + 2];
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (!issuer || !subject || !spki) throw new RangeError('truncated TBSCertificate');
  const extensions = new Map<string, Extension>();
  const extWrapper = fields.find((f) => f.tag === 0xa3);
  const extList = extWrapper ? children(extWrapper)[0] : undefined;
  for (const ext of extList ? children(extList) : []) {
    const parts = children(ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (!id || !value) continue;
    const critical = parts.length === 3 && parts[1]?.tag === Tag.BOOLEAN && parts[1].content[0] !== 0;
    extensions.set(readOid(id), { critical, value: value.content });
  }
  const [algId, parameters] = children(sigAlg);
  if (!algId) throw new RangeError('missing signature algorithm');
  return { tbs, issuer, subject, spki, signatureAlgorithm: { oid: readOid(algId), parameters }, extensions };
}

/**
 * The hash a certificate's signature algorithm uses, or undefined for pure signature schemes (EdDSA)
 * and unknown algorithms. For RSASSA-PSS the hash comes from the parameters (RFC 4055 §3.1; default SHA-1).
 */
export function signatureHash(cert: ParsedCertificate): string | undefined {
  const { oid, parameters } = cert.signatureAlgorithm;
  if (oid === OID.rsassaPss) {
    const hashField = parameters ? children(parameters).find((n) => n.tag === 0xa0) : undefined;
    const hashAlg = hashField ? children(hashField)[0] : undefined;
    const hashOid = hashAlg ? children(hashAlg)[0] : undefined;
    return hashOid ? HASH_OIDS[readOid(hashOid)] : 'sha1';
  }
  return SIGNATURE_ALGORITHMS[oid]?.hash;
}

export function signatureAlgorithmName(cert: ParsedCertificate): string {
  const { oid } = cert.signatureAlgorithm;
  const name = SIGNATURE_ALGORITHMS[oid]?.name ?? oid;
  return oid === OID.rsassaPss ? `${name} (${signatureHash(cert) ?? '?'})` : name;
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's bits. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const keyBits = children(readNode(spkiDer))[1];
  if (!keyBits || keyBits.tag !== Tag.BIT_STRING) throw new RangeError('not a SubjectPublicKeyInfo');
  return createHash('sha1').update(keyBits.content.subarray(1)).digest();
}

/** The keyIdentifier of a SubjectKeyIdentifier extension, if the certificate has one. */
export function subjectKeyIdentifier(cert: ParsedCertificate): Buffer | undefined {
  const ext = cert.extensions.get(OID.subjectKeyIdentifier);
  return ext ? readNode(ext.value).content : undefined;
}

/** SAN entries in OpenSSL's spelling: "DNS:x", "IP:1.2.3.4", "email:x", "URI:x"; other kinds are skipped. */
export function subjectAltNames(cert: ParsedCertificate): string[] {
  const ext = cert.extensions.get(OID.subjectAltName);
  if (!ext) return [];
  const out: string[] = [];
  for (const name of children(readNode(ext.value))) {
    switch (name.tag) {
      case 0x81:
        out.push(`email:${name.content.toString('latin1')}`);
        break;
      case 0x82:
        out.push(`DNS:${name.content.toString('latin1')}`);
        break;
      case 0x86:
        out.push(`URI:${name.content.toString('latin1')}`);
        break;
      case 0x87:
        out.push(`IP:${formatIp(name.content)}`);
        break;
    }
  }
  return out;
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return bytes.toString('hex');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // RFC 5952: compress the longest run (length ≥ 2) of zero groups
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}
