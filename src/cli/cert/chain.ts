/**
 * What is wrong with a certificate chain, in words: dates, key sizes, signature hashes, names, the order of the
 * chain and whether it reaches a trust anchor. The chain is leaf first, as a server sends it (RFC 8446 §4.4.2).
 */
import { X509Certificate } from 'node:crypto';
import { type CertificateInfo, describeCertificate } from '../../tls/index.js';

export interface ChainCertificate {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly info: CertificateInfo;
}

export interface ChainAnalysis {
  readonly certificates: readonly ChainCertificate[];
  /** Things that make clients refuse the chain, or will soon. */
  readonly problems: readonly string[];
  /** Worth knowing, harmless. */
  readonly notes: readonly string[];
  /** Whether the chain reaches one of `anchors` (undefined when no anchors were given). */
  readonly reachesAnchor: boolean | undefined;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';
const SOON_DAYS = 30;

/** PEM certificates (one or many) or a single DER certificate, leaf first. */
export function readCertificates(bytes: Buffer): ChainCertificate[] {
  const text = bytes.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  const ders = blocks
    ? blocks.map((pem) => new X509Certificate(pem).raw)
    : text.includes('-----BEGIN')
      ? []
      : [new X509Certificate(bytes).raw];
  return ders.map(toChainCertificate);
}

export function toChainCertificate(der: Buffer): ChainCertificate {
  return { der, x509: new X509Certificate(der), info: describeCertificate(der) };
}

/** Whether `issuer` signed `cert` (names match and the signature verifies with the issuer's key). */
export function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.issuer === issuer.subject && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function keyProblem(info: CertificateInfo): string | undefined {
  if (
    (info.keyType === 'rsa' || info.keyType === 'rsa-pss' || info.keyType === 'dsa') &&
    (info.keyBits ?? 0) < 2048
  )
    return `its ${info.keyType.toUpperCase()} key has only ${info.keyBits} bits (2048 is the minimum)`;
  if (info.keyType === 'ec' && (info.keyBits ?? 0) < 256) return `its EC key has only ${info.keyBits} bits`;
  return undefined;
}

/**
 * Analyses `chain`. `anchors` are the certificates trusted (e.g. --ca); `host` is the name a client would
 * check the leaf against.
 */
export function analyseChain(
  chain: readonly ChainCertificate[],
  o: { anchors?: readonly X509Certificate[] | undefined; host?: string | undefined; now?: Date } = {},
): ChainAnalysis {
  const problems: string[] = [];
  const notes: string[] = [];
  const now = o.now ?? new Date();
  chain.forEach((cert, i) => {
    const { info } = cert;
    const which = chain.length === 1 ? 'the certificate' : `certificate ${i + 1} (${info.subject})`;
    if (info.validTo < now) problems.push(`${which} expired on ${info.validTo.toISOString()}`);
    else if (info.validFrom > now)
      problems.push(`${which} is not valid until ${info.validFrom.toISOString()}`);
    else if (i === 0 && info.daysLeft < SOON_DAYS) problems.push(`${which} expires in ${info.daysLeft} days`);
    const weakKey = keyProblem(info);
    if (weakKey) problems.push(`${which}: ${weakKey}`);
    // A root's self-signature is never checked by anyone, so its hash does not matter.
    if (!info.selfSigned && /sha1|md5|md2/i.test(info.signatureAlgorithm))
      problems.push(`${which} is signed with ${info.signatureAlgorithm}, which clients reject`);
  });

  const leaf = chain[0];
  if (leaf) {
    const { info, x509 } = leaf;
    if (info.altNames.length === 0)
      problems.push(
        'the certificate has no subjectAltName: clients ignore the CN (RFC 6125 §6.4.4), so no name matches',
      );
    if (info.isCa) problems.push('the first certificate is a CA certificate, not a server certificate');
    const eku = x509.keyUsage;
    if (eku && eku.length > 0 && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_EKU))
      problems.push('its extended key usage does not include serverAuth: TLS clients will refuse it');
    if (o.host !== undefined) {
      const matches = /^[\d.]+$|:/.test(o.host) ? x509.checkIP(o.host) : x509.checkHost(o.host);
      if (matches === undefined) {
        problems.push(
          `it is not valid for "${o.host}"${info.altNames.length ? `: it names ${info.altNames.join(', ')}` : ''}`,
        );
      }
    }
    if (info.selfSigned && chain.length === 1)
      notes.push('self-signed: only clients that were given this very certificate (or its pin) can trust it');
  }

  for (let i = 0; i + 1 < chain.length; i++) {
    if (!issued(chain[i + 1]!.x509, chain[i]!.x509)) {
      problems.push(
        `certificate ${i + 2} (${chain[i + 1]!.info.subject}) did not issue certificate ${i + 1} ` +
          `(${chain[i]!.info.subject}): the chain is out of order or holds an unrelated certificate`,
      );
    }
  }

  const last = chain.at(-1);
  let reachesAnchor: boolean | undefined;
  if (last) {
    if (last.info.selfSigned && chain.length > 1)
      notes.push(
        'the chain includes its root certificate; clients use their own copy, so sending it is unneeded',
      );
    if (o.anchors !== undefined) {
      reachesAnchor = o.anchors.some((anchor) => anchor.raw.equals(last.der) || issued(anchor, last.x509));
      if (!reachesAnchor) {
        problems.push(
          last.info.selfSigned
            ? `the chain ends at ${last.info.subject}, which is not among the trusted certificates`
            : `the chain ends at ${last.info.subject}, whose issuer (${last.info.issuer}) is not among the trusted certificates` +
                (chain.length === 1 ? ': an intermediate certificate may be missing' : ''),
        );
      }
    } else if (!last.info.selfSigned) {
      notes.push(
        `the chain ends at a certificate issued by ${last.info.issuer}: clients must trust that issuer`,
      );
    }
  }
  return { certificates: chain, problems, notes, reachesAnchor };
}
