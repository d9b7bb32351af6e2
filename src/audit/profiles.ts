/**
 * Compliance with Mozilla's server-side TLS profiles (guidelines 5.7: modern, intermediate, old): which
 * protocols, suites, groups, DH sizes and certificate keys the server offers beyond the profile, and what the
 * profile asks for that it lacks. `postern audit --profile NAME` reports the deviations.
 */
import type { CertificateResult, ProtocolName, TlsScanResult } from './types.js';
import { PROTOCOLS } from './types.js';

export type MozillaProfileName = 'modern' | 'intermediate' | 'old';
export const MOZILLA_PROFILES: readonly MozillaProfileName[] = ['modern', 'intermediate', 'old'];
export const MOZILLA_GUIDELINES_VERSION = '5.7';

interface MozillaProfile {
  readonly protocols: readonly ProtocolName[];
  /** TLS 1.3 suites (IANA). */
  readonly ciphersuites: readonly string[];
  /** TLS ≤ 1.2 suites (IANA). */
  readonly ciphers: readonly string[];
  /** Key-exchange groups, normalised (see normaliseGroup). */
  readonly groups: readonly string[];
  readonly dhParamSize: number | null;
  readonly certificateTypes: readonly ('ecdsa' | 'rsa')[];
  readonly certificateCurves: readonly number[];
  /** Signature algorithms, normalised (lower case, letters and digits only). */
  readonly certificateSignatures: readonly string[];
  readonly rsaKeySize: number | null;
  readonly serverPreferredOrder: boolean;
  readonly maximumCertificateLifespan: number;
  readonly recommendedCertificateLifespan: number;
}

const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const GROUPS = ['x25519', 'secp256r1', 'secp384r1'];
const INTERMEDIATE = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
];
const OLD = [
  ...INTERMEDIATE,
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256',
  'TLS_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_RSA_WITH_AES_256_CBC_SHA256',
  'TLS_RSA_WITH_AES_128_CBC_SHA',
  'TLS_RSA_WITH_AES_256_CBC_SHA',
  'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
];
const ECDSA_SIGNATURES = ['ecdsawithsha256', 'ecdsawithsha384', 'ecdsawithsha512'];

// Mozilla's guidelines 5.7 (ssl-config.mozilla.org), transcribed: the data, not the generator.
const PROFILES: Readonly<Record<MozillaProfileName, MozillaProfile>> = {
  modern: {
    protocols: ['TLSv1.3'],
    ciphersuites: TLS13,
    ciphers: [],
    groups: GROUPS,
    dhParamSize: null,
    certificateTypes: ['ecdsa'],
    certificateCurves: [256, 384],
    certificateSignatures: ECDSA_SIGNATURES,
    rsaKeySize: null,
    serverPreferredOrder: false,
    maximumCertificateLifespan: 90,
    recommendedCertificateLifespan: 90,
  },
  intermediate: {
    protocols: ['TLSv1.2', 'TLSv1.3'],
    ciphersuites: TLS13,
    ciphers: INTERMEDIATE,
    groups: GROUPS,
    dhParamSize: 2048,
    certificateTypes: ['ecdsa', 'rsa'],
    certificateCurves: [256, 384],
    certificateSignatures: ['sha256withrsaencryption', ...ECDSA_SIGNATURES],
    rsaKeySize: 2048,
    serverPreferredOrder: false,
    maximumCertificateLifespan: 366,
    recommendedCertificateLifespan: 90,
  },
  old: {
    protocols: ['TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
    ciphersuites: TLS13,
    ciphers: OLD,
    groups: GROUPS,
    dhParamSize: 1024,
    certificateTypes: ['rsa'],
    certificateCurves: [256, 384],
    certificateSignatures: ['sha256withrsaencryption'],
    rsaKeySize: 2048,
    serverPreferredOrder: true,
    maximumCertificateLifespan: 366,
    recommendedCertificateLifespan: 90,
  },
};

export type DeviationCategory =
  | 'protocol'
  | 'cipher'
  | 'group'
  | 'dh'
  | 'certificate'
  | 'preference'
  | 'ocsp';

export interface ProfileDeviation {
  readonly category: DeviationCategory;
  /** What deviates: a protocol, a suite name, a group, "RSA 1024", … */
  readonly item: string;
  /** 'required': the profile rules it out (or requires it); 'recommended': the profile advises it. */
  readonly level: 'required' | 'recommended';
  readonly message: string;
}

export interface ProfileCompliance {
  readonly profile: MozillaProfileName;
  readonly guidelines: string;
  /** No 'required' deviation. */
  readonly compliant: boolean;
  readonly deviations: readonly ProfileDeviation[];
}

/** "prime256v1", "P-256" and "secp256r1" are one group; "X25519" is "x25519". */
export function normaliseGroup(name: string): string {
  const n = name.toLowerCase();
  if (n === 'prime256v1' || n === 'p-256' || n === 'p256') return 'secp256r1';
  if (n === 'p-384' || n === 'p384') return 'secp384r1';
  if (n === 'p-521' || n === 'p521') return 'secp521r1';
  return n;
}

function normaliseSignature(name: string): string {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  // Node / OpenSSL short names ("RSA-SHA256") for the long ones Mozilla lists.
  const m = /^rsa(sha\d+)$/.exec(n);
  return m ? `${m[1]}withrsaencryption` : n;
}

function keyKind(keyType: string): string {
  const t = keyType.toLowerCase();
  if (t === 'rsa' || t === 'rsa-pss') return 'rsa';
  if (t === 'ec' || t === 'ecdsa') return 'ecdsa';
  return t;
}

function protocolDeviations(
  p: MozillaProfile,
  name: MozillaProfileName,
  tls: TlsScanResult,
): ProfileDeviation[] {
  const out: ProfileDeviation[] = [];
  for (const protocol of PROTOCOLS) {
    if (tls.protocols[protocol] === true && !p.protocols.includes(protocol)) {
      out.push({
        category: 'protocol',
        item: protocol,
        level: 'required',
        message: `${protocol} is offered; ${name} allows ${p.protocols.join(', ')}`,
      });
    }
  }
  if (tls.protocols['TLSv1.3'] === false) {
    out.push({
      category: 'protocol',
      item: 'TLSv1.3',
      level: name === 'modern' ? 'required' : 'recommended',
      message: `TLSv1.3 is not offered; ${name} ${name === 'modern' ? 'requires' : 'includes'} it`,
    });
  }
  return out;
}

function cipherDeviations(
  p: MozillaProfile,
  name: MozillaProfileName,
  tls: TlsScanResult,
): ProfileDeviation[] {
  const out: ProfileDeviation[] = [];
  // One deviation per suite, naming every protocol it is accepted with.
  const outside = new Map<string, ProtocolName[]>();
  for (const protocol of PROTOCOLS) {
    const allowed = protocol === 'TLSv1.3' ? p.ciphersuites : p.ciphers;
    for (const suite of tls.ciphers[protocol] ?? []) {
      if (!allowed.includes(suite.name))
        outside.set(suite.name, [...(outside.get(suite.name) ?? []), protocol]);
    }
  }
  for (const [suite, protocols] of outside) {
    out.push({
      category: 'cipher',
      item: suite,
      level: 'required',
      message: `${suite} (${protocols.join(', ')}) is not in the ${name} list`,
    });
  }
  const order = PROTOCOLS.filter((x) => x !== 'TLSv1.3' && tls.serverPreference[x] !== null);
  const mismatched = order.filter((x) => tls.serverPreference[x] !== p.serverPreferredOrder);
  if (mismatched.length > 0) {
    out.push({
      category: 'preference',
      item: p.serverPreferredOrder ? 'client order' : 'server order',
      level: p.serverPreferredOrder ? 'required' : 'recommended',
      message: p.serverPreferredOrder
        ? `The client chooses the suite (${mismatched.join(', ')}); ${name} wants the server's order`
        : `The server enforces its suite order (${mismatched.join(', ')}); ${name} lets the client choose`,
    });
  }
  return out;
}

/** Post-quantum hybrids (X25519MLKEM768, …) are newer than 5.7 and stronger than its groups: not a deviation. */
function isHybrid(group: string): boolean {
  return /mlkem|kyber/.test(group);
}

function keyExchangeDeviations(
  p: MozillaProfile,
  name: MozillaProfileName,
  tls: TlsScanResult,
): ProfileDeviation[] {
  const out: ProfileDeviation[] = [];
  for (const group of tls.groups) {
    const g = normaliseGroup(group);
    if (p.groups.includes(g) || isHybrid(g)) continue;
    const ffdhe = /^ffdhe(\d+)$/.exec(g);
    if (ffdhe && p.dhParamSize !== null && Number(ffdhe[1]) >= p.dhParamSize) continue;
    // Stronger than the profile's groups (x448, P-521, ffdhe2048+): outside the list, but no weakness.
    const strong = g === 'x448' || g === 'secp521r1' || (ffdhe !== null && Number(ffdhe[1]) >= 2048);
    out.push({
      category: 'group',
      item: group,
      level: strong ? 'recommended' : 'required',
      message: `Group ${group} is accepted; ${name} uses ${p.groups.join(', ')}${p.dhParamSize ? ` (and ffdhe${Math.max(p.dhParamSize, 2048)}+ for DHE)` : ''}`,
    });
  }
  if (p.dhParamSize !== null) {
    for (const bits of new Set(tls.dhBits)) {
      if (bits >= p.dhParamSize) continue;
      out.push({
        category: 'dh',
        item: `DH ${bits}`,
        level: 'required',
        message: `DHE uses ${bits}-bit parameters; ${name} asks for at least ${p.dhParamSize}`,
      });
    }
  }
  return out;
}

function certificateDeviations(
  p: MozillaProfile,
  name: MozillaProfileName,
  cert: CertificateResult,
): ProfileDeviation[] {
  const leaf = cert.chain[0];
  if (!leaf) return [];
  const out: ProfileDeviation[] = [];
  const kind = keyKind(leaf.keyType);
  const key = `${leaf.keyType.toUpperCase()}${leaf.keyBits ? ` ${leaf.keyBits}` : ''}`;
  if (!(p.certificateTypes as readonly string[]).includes(kind)) {
    out.push({
      category: 'certificate',
      item: key,
      level: 'required',
      message: `The certificate key is ${key}; ${name} uses ${p.certificateTypes.map((t) => t.toUpperCase()).join(' or ')}`,
    });
  } else if (kind === 'rsa' && p.rsaKeySize !== null && (leaf.keyBits ?? 0) < p.rsaKeySize) {
    out.push({
      category: 'certificate',
      item: key,
      level: 'required',
      message: `The RSA key has ${leaf.keyBits ?? '?'} bits; ${name} asks for ${p.rsaKeySize}`,
    });
  } else if (kind === 'ecdsa' && leaf.keyBits !== undefined && !p.certificateCurves.includes(leaf.keyBits)) {
    out.push({
      category: 'certificate',
      item: key,
      level: 'required',
      message: `The ECDSA key is on a ${leaf.keyBits}-bit curve; ${name} uses P-256 or P-384`,
    });
  }
  if (!p.certificateSignatures.includes(normaliseSignature(leaf.signatureAlgorithm)) && !leaf.selfSigned) {
    out.push({
      category: 'certificate',
      item: leaf.signatureAlgorithm,
      level: 'required',
      message: `The certificate is signed with ${leaf.signatureAlgorithm}; ${name} lists ${p.certificateSignatures.length} SHA-2 signature algorithms`,
    });
  }
  const lifespan = Math.round((Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000);
  if (Number.isFinite(lifespan) && lifespan > p.recommendedCertificateLifespan) {
    const over = lifespan > p.maximumCertificateLifespan;
    out.push({
      category: 'certificate',
      item: `${lifespan} days`,
      level: over ? 'required' : 'recommended',
      message: over
        ? `The certificate is valid for ${lifespan} days; ${name} allows at most ${p.maximumCertificateLifespan}`
        : `The certificate is valid for ${lifespan} days; ${name} recommends ${p.recommendedCertificateLifespan}`,
    });
  }
  if (cert.ocspStapled === false) {
    out.push({
      category: 'ocsp',
      item: 'OCSP stapling',
      level: 'recommended',
      message: `No OCSP response is stapled; ${name} recommends stapling`,
    });
  }
  return out;
}

/**
 * The deviations of a scanned server from one of Mozilla's profiles.
 *
 * @example checkProfile('intermediate', { tls, certificate }).compliant
 */
export function checkProfile(
  name: MozillaProfileName,
  results: { readonly tls: TlsScanResult | null; readonly certificate: CertificateResult | null },
): ProfileCompliance {
  const p = PROFILES[name];
  const deviations = [
    ...(results.tls ? protocolDeviations(p, name, results.tls) : []),
    ...(results.tls ? cipherDeviations(p, name, results.tls) : []),
    ...(results.tls ? keyExchangeDeviations(p, name, results.tls) : []),
    ...(results.certificate ? certificateDeviations(p, name, results.certificate) : []),
  ];
  return {
    profile: name,
    guidelines: MOZILLA_GUIDELINES_VERSION,
    compliant: results.tls !== null && !deviations.some((d) => d.level === 'required'),
    deviations,
  };
}
