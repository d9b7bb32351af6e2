/**
 * Certificate generation without OpenSSL: a private CA, leaf certificates it signs, or self-signed
 * certificates, for tests, local servers and `postern serve`. Keys are made fresh each time; nothing is shipped.
 *
 * The profile follows what public CAs issue (RFC 5280 + CA/Browser Forum baseline), so Node, OpenSSL and
 * Postfix accept the result: SAN always present on leaves (RFC 6125 §6.4.4 — the CN is not consulted),
 * serverAuth EKU, a positive random 128-bit serial, SKI/AKI, basicConstraints critical.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { promisify } from 'node:util';
import { InputError } from '../core/errors.js';
import {
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  namedBits,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';
import { ipToBytes } from './ip-literal.js';
import { spkiSha256 } from './pin.js';
import { keyIdentifier, OID, parseCertificate, subjectKeyIdentifier } from './x509-der.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** `ec` is ECDSA on P-256 — small, fast and accepted everywhere; RSA for peers that want it. */
export type KeyType = 'ec' | 'rsa2048' | 'rsa4096' | 'ed25519';

export interface CertificateOptions {
  /** Subject CN; also the only SAN when `altNames` is empty. */
  readonly commonName: string;
  /** "DNS:mail.example", "IP:127.0.0.1", or bare names (IP addresses are detected). */
  readonly altNames?: readonly string[];
  /** Validity in days from `notBefore`; default 365. Ignored when `notAfter` is given. */
  readonly days?: number;
  /** Default: five minutes ago, so a peer whose clock runs slightly behind still accepts a new certificate. */
  readonly notBefore?: Date;
  /** Set in the past (or `notBefore` in the future) to make expired / not-yet-valid test certificates. */
  readonly notAfter?: Date;
  /** Default `'ec'`. */
  readonly keyType?: KeyType;
  /** Makes a CA certificate (an intermediate when `issuer` is given) instead of a server certificate. */
  readonly isCa?: boolean;
  /** PEMs of the signing CA's certificate and private key; absent means self-signed. */
  readonly issuer?: { readonly cert: string; readonly key: string };
  readonly organization?: string;
}

export interface GeneratedCertificate {
  /** PEM certificate. */
  readonly cert: string;
  /** PKCS#8 PEM private key ("BEGIN PRIVATE KEY"). */
  readonly key: string;
  /** Base64 SHA-256 of the SubjectPublicKeyInfo, usable as a pin ("sha256/" + this). */
  readonly spkiSha256: string;
}

const DAY_MS = 86_400_000;
const BACKDATE_MS = 5 * 60_000;

// KeyUsage bit numbers (RFC 5280 §4.2.1.3)
const DIGITAL_SIGNATURE = 0;
const KEY_ENCIPHERMENT = 2;
const KEY_CERT_SIGN = 5;
const CRL_SIGN = 6;

async function generateKey(type: KeyType): Promise<KeyObject> {
  switch (type) {
    case 'ec':
      return (await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })).privateKey;
    case 'rsa2048':
    case 'rsa4096':
      return (await generateKeyPairAsync('rsa', { modulusLength: type === 'rsa2048' ? 2048 : 4096 }))
        .privateKey;
    case 'ed25519':
      return (await generateKeyPairAsync('ed25519')).privateKey;
    default:
      throw new InputError('EINVALID_ARGUMENT', `unknown key type ${JSON.stringify(type)}`, {
        hint: "use 'ec', 'rsa2048', 'rsa4096' or 'ed25519'",
      });
  }
}

/** How a private key signs: the AlgorithmIdentifier DER and the digest for crypto.sign (null for EdDSA). */
function signerFor(key: KeyObject): { algorithm: Buffer; digest: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { algorithm: sequence(oid(OID.ecdsaWithSha256)), digest: 'sha256' };
      if (curve === 'secp384r1') return { algorithm: sequence(oid(OID.ecdsaWithSha384)), digest: 'sha384' };
      throw new InputError('EINVALID_ARGUMENT', `signing with EC curve ${curve ?? '?'} is not supported`, {
        hint: 'use a P-256 or P-384 key',
      });
    }
    case 'rsa':
      // RFC 4055 §5: the parameters of sha256WithRSAEncryption are an explicit NULL.
      return { algorithm: sequence(oid(OID.sha256WithRsa), nullValue()), digest: 'sha256' };
    case 'ed25519':
      return { algorithm: sequence(oid(OID.ed25519)), digest: null };
    default:
      throw new InputError(
        'EINVALID_ARGUMENT',
        `signing with a ${key.asymmetricKeyType ?? '?'} key is not supported`,
        {
          hint: 'use an EC (P-256/P-384), RSA or Ed25519 key',
        },
      );
  }
}

/** Splits "DNS:x" / "IP:1.2.3.4" / bare entries into GeneralNames; IPs go to iPAddress (RFC 5280 §4.2.1.6). */
function generalNames(names: readonly string[]): Buffer[] {
  const hostname =
    /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9])?)*\.?$/;
  return names.map((raw) => {
    const match = /^(DNS|IP):(.*)$/i.exec(raw.trim());
    const kind = match?.[1]?.toUpperCase();
    const value = (match?.[2] ?? raw).trim();
    const ip = ipToBytes(value);
    if (ip) return implicitPrimitive(7, ip);
    if (kind === 'IP')
      throw new InputError('EINVALID_ARGUMENT', `${JSON.stringify(raw)} is not an IP address`);
    if (!hostname.test(value)) {
      throw new InputError('EINVALID_ARGUMENT', `${JSON.stringify(raw)} is not a DNS name or IP address`);
    }
    // dNSName is an IA5String; lower case and no trailing dot is the form matchers expect.
    return implicitPrimitive(2, Buffer.from(value.replace(/\.$/, '').toLowerCase(), 'ascii'));
  });
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

function name(commonName: string, organization: string | undefined): Buffer {
  // RFC 5280 §4.1.2.6: UTF8String for new certificates. One attribute per RDN, O before CN as is customary.
  const rdn = (id: string, value: string) => set(sequence(oid(id), utf8String(value)));
  return organization
    ? sequence(rdn(OID.organization, organization), rdn(OID.commonName, commonName))
    : sequence(rdn(OID.commonName, commonName));
}

/** 16 random bytes with the top bit clear (a positive INTEGER) and never a leading zero (stays 16 bytes). */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes;
}

function validity(o: CertificateOptions): { notBefore: Date; notAfter: Date } {
  const days = o.days ?? 365;
  if (!Number.isFinite(days) || days <= 0) {
    throw new InputError('EINVALID_ARGUMENT', `days must be a positive number, got ${days}`);
  }
  const notBefore = o.notBefore ?? new Date(Date.now() - BACKDATE_MS);
  const notAfter = o.notAfter ?? new Date(notBefore.getTime() + days * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new InputError('EINVALID_ARGUMENT', 'notAfter must be later than notBefore');
  }
  return { notBefore, notAfter };
}

function readIssuer(issuer: { readonly cert: string; readonly key: string }): {
  name: Buffer;
  keyId: Buffer;
  key: KeyObject;
} {
  let der: Buffer;
  let key: KeyObject;
  try {
    const cert = new X509Certificate(issuer.cert);
    der = cert.raw;
    key = createPrivateKey(issuer.key);
    if (!cert.checkPrivateKey(key))
      throw new Error('the issuer key does not belong to the issuer certificate');
  } catch (cause) {
    throw new InputError('EINVALID_ARGUMENT', 'issuer must be the PEM certificate and private key of a CA', {
      cause,
    });
  }
  const parsed = parseCertificate(der);
  // The issuer name is copied octet for octet: chain building compares names in their encoded form.
  return {
    name: parsed.subject.raw,
    keyId: subjectKeyIdentifier(parsed) ?? keyIdentifier(parsed.spki.raw),
    key,
  };
}

/**
 * Creates a certificate and its fresh private key: self-signed, or signed by `issuer`.
 *
 * @example
 * const ca = await createCa({ commonName: 'Test CA' });
 * const leaf = await createCertificate({ commonName: 'localhost', altNames: ['localhost', '127.0.0.1'], issuer: ca });
 * tls.createServer({ cert: leaf.cert, key: leaf.key }); // clients pass { ca: ca.cert }
 */
export async function createCertificate(o: CertificateOptions): Promise<GeneratedCertificate> {
  if (!o.commonName) throw new InputError('EINVALID_ARGUMENT', 'commonName is required');
  const keyType = o.keyType ?? 'ec';
  const { notBefore, notAfter } = validity(o);
  const issuer = o.issuer ? readIssuer(o.issuer) : undefined;
  const privateKey = await generateKey(keyType);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const subject = name(o.commonName, o.organization);
  const ownKeyId = keyIdentifier(spki);
  const signingKey = issuer?.key ?? privateKey;
  const signer = signerFor(signingKey);

  const extensions: Buffer[] = [];
  if (o.isCa) {
    extensions.push(
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      extension(OID.keyUsage, true, namedBits([DIGITAL_SIGNATURE, KEY_CERT_SIGN, CRL_SIGN])),
    );
  } else {
    // keyEncipherment only means something for RSA key transport (TLS 1.2 RSA key exchange).
    const isRsa = keyType === 'rsa2048' || keyType === 'rsa4096';
    extensions.push(extension(OID.basicConstraints, true, sequence()));
    // A self-signed leaf gets no keyUsage: OpenSSL only treats a certificate as self-issued when its key may
    // sign certificates (X509_check_issued), and keyCertSign on a non-CA is forbidden (RFC 5280 §4.2.1.3).
    // Without it, clients report "self-signed" (DEPTH_ZERO_SELF_SIGNED_CERT) rather than "unknown issuer".
    if (issuer) {
      const usage = isRsa ? [DIGITAL_SIGNATURE, KEY_ENCIPHERMENT] : [DIGITAL_SIGNATURE];
      extensions.push(extension(OID.keyUsage, true, namedBits(usage)));
    }
    // clientAuth too, so the same helper makes certificates for mutual-TLS tests.
    extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))));
  }
  const altNames = o.altNames?.length ? o.altNames : o.isCa ? [] : [o.commonName];
  if (altNames.length > 0)
    extensions.push(extension(OID.subjectAltName, false, sequence(...generalNames(altNames))));
  extensions.push(
    extension(OID.subjectKeyIdentifier, false, octetString(ownKeyId)),
    extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, issuer?.keyId ?? ownKeyId))),
  );

  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(randomSerial()),
    signer.algorithm,
    issuer?.name ?? subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(signer.digest, tbs, signingKey);
  const der = sequence(tbs, signer.algorithm, bitString(signature));

  return {
    cert: new X509Certificate(der).toString(),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spkiSha256: spkiSha256(der),
  };
}

/**
 * Creates a self-signed root CA (default 10 years) for signing test and local server certificates.
 *
 * @example const ca = await createCa({ commonName: 'Postern Test CA' });
 */
export async function createCa(o: {
  readonly commonName: string;
  readonly days?: number;
  readonly keyType?: KeyType;
  readonly organization?: string;
}): Promise<GeneratedCertificate> {
  return createCertificate({
    commonName: o.commonName,
    days: o.days ?? 3650,
    keyType: o.keyType ?? 'ec',
    organization: o.organization,
    isCa: true,
  });
}
