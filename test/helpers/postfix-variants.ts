/**
 * Named Postfix configurations for the audit tests, each a private instance from startPostfix() with the
 * port to audit and what an auditor must find there (the facts below were verified by experiment with
 * Debian's Postfix 3.7 and OpenSSL 3.0, `openssl s_client -starttls smtp` and testssl.sh 3.0.8):
 *
 *   defaults         Debian's smtpd TLS defaults (smtpd_tls_protocols >=TLSv1, smtpd_tls_ciphers medium): TLS 1.0
 *                    to 1.3, and anonymous suites (ADH/AECDH) besides the ECDSA ones. The server itself does
 *                    TLS 1.0/1.1 with ECDHE-ECDSA (signing with SHA-1); an OpenSSL 3 client refuses that below
 *                    @SECLEVEL=0 ("legacy sigalg disallowed"), but an auditor must report the versions offered.
 *   modern           TLS 1.2+ only, ECDHE with AES-GCM or ChaCha20 only, server order.
 *   legacy           TLS 1.0–1.2 (no 1.3), SHA-1 CBC suites only — static RSA first, ECDHE/DHE-RSA — at
 *                    @SECLEVEL=0, server order, RSA 2048 leaf. Nothing else is needed for TLS 1.0: the
 *                    protocol range and the cipher list (tls_config_file is not involved). No 3DES: Debian's
 *                    libssl 3.0 has no 3DES suites at all (`openssl ciphers 3DES` matches nothing).
 *   no-starttls      smtpd_tls_security_level=none on every plaintext port: no STARTTLS offered.
 *   auth-before-tls  smtpd_tls_auth_only=no: AUTH offered (and accepted) on submission before STARTTLS.
 *   expired          a leaf of the test CA that expired 30 days ago.
 *   self-signed      a self-signed leaf (no CA).
 *
 * The certificates of expired/self-signed/legacy are made with src/tls/certificates.ts (it takes
 * notBefore/notAfter, which `openssl req -x509` cannot backdate) into a temp dir removed by stop().
 * Every leaf names localhost, 127.0.0.1 and ::1, so the audited name 127.0.0.1 matches.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProtocolName } from '../../src/audit/types.js';
import { createCertificate, type KeyType } from '../../src/tls/certificates.js';
import { testPki } from './certs.js';
import { type PostfixInstance, type PostfixOptions, startPostfix } from './postfix.js';
import { removeTempDir, tempDir } from './tmp.js';

export type VariantName =
  | 'defaults'
  | 'modern'
  | 'legacy'
  | 'no-starttls'
  | 'auth-before-tls'
  | 'expired'
  | 'self-signed';

/** What an auditor must find on the variant's port. */
export interface VariantFacts {
  /** STARTTLS is advertised in the plaintext EHLO. */
  readonly starttls: boolean;
  /** AUTH is advertised in the plaintext EHLO (and Postfix goes on with it there). */
  readonly authBeforeTls: boolean;
  /** Protocol → offered; all false without STARTTLS. */
  readonly protocols: Readonly<Record<ProtocolName, boolean>>;
  /** Some anonymous (aNULL: ADH/AECDH) suite is accepted. */
  readonly anonymousSuites: boolean;
  /** The server picks the suite by its own order (tls_preempt_cipherlist=yes). */
  readonly serverOrder: boolean;
  /**
   * Exactly the suites accepted per protocol (IANA names, any order), for the variants whose cipher list
   * pins them down; absent where the list is OpenSSL's default and long.
   */
  readonly ciphers?: Readonly<Partial<Record<ProtocolName, readonly string[]>>>;
  /** null when no certificate is presented (no STARTTLS). */
  readonly certificate: {
    /** The chain validates against the test CA (given to the auditor as its CA). */
    readonly trusted: boolean;
    readonly expired: boolean;
    readonly selfSigned: boolean;
    /** The leaf covers 127.0.0.1. */
    readonly nameMatches: boolean;
    readonly keyType: 'ec' | 'rsa';
    readonly keyBits: number;
  } | null;
}

export interface PostfixVariant {
  readonly name: VariantName;
  /** One line: what is configured. */
  readonly summary: string;
  /** Which port to audit: 'smtp' (port-25 style, STARTTLS optional) or 'submission' (587 style). */
  readonly port: 'smtp' | 'submission';
  /**
   * The variant whose protocol and cipher settings this one shares (only the certificate or the SMTP side
   * differs), so a slow reference scan of its suites can be skipped.
   */
  readonly sameTlsAs?: VariantName;
  readonly facts: VariantFacts;
}

/** A started variant: audit `host:port` with STARTTLS, trusting `caFile`. */
export interface RunningVariant {
  readonly variant: PostfixVariant;
  readonly postfix: PostfixInstance;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly caFile: string;
  /** Stops Postfix and removes the variant's certificates. */
  stop(): Promise<void>;
}

const NO_TLS = {
  SSLv2: false,
  SSLv3: false,
  'TLSv1.0': false,
  'TLSv1.1': false,
  'TLSv1.2': false,
  'TLSv1.3': false,
};
const TLS10_TO_13 = { ...NO_TLS, 'TLSv1.0': true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': true };
const TEST_CA_EC = {
  trusted: true,
  expired: false,
  selfSigned: false,
  nameMatches: true,
  keyType: 'ec',
  keyBits: 256,
} as const;
const TLS13_DEFAULT_SUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
];
/** legacy's list with an RSA leaf: kRSA+SHA1:ECDHE+SHA1:DHE+SHA1 at SECLEVEL 0. */
const LEGACY_SUITES = [
  'TLS_RSA_WITH_AES_256_CBC_SHA',
  'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA',
  'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_DHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA',
  'TLS_DHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA',
];

/** The variants, in the order tests run them. */
export const POSTFIX_VARIANTS: readonly PostfixVariant[] = [
  {
    name: 'defaults',
    summary: "Debian's smtpd TLS defaults: TLS 1.0–1.3, 'medium' ciphers with anonymous suites",
    port: 'smtp',
    facts: {
      starttls: true,
      authBeforeTls: false,
      protocols: TLS10_TO_13,
      anonymousSuites: true,
      serverOrder: false,
      certificate: TEST_CA_EC,
    },
  },
  {
    name: 'modern',
    summary: 'TLS 1.2+ only, ECDHE with AES-GCM/ChaCha20 only, server order',
    port: 'submission',
    facts: {
      starttls: true,
      authBeforeTls: false,
      protocols: { ...NO_TLS, 'TLSv1.2': true, 'TLSv1.3': true },
      anonymousSuites: false,
      serverOrder: true,
      ciphers: {
        'TLSv1.2': [
          'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
          'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
          'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
        ],
        'TLSv1.3': TLS13_DEFAULT_SUITES,
      },
      certificate: TEST_CA_EC,
    },
  },
  {
    name: 'legacy',
    summary: 'TLS 1.0–1.2, SHA-1 CBC suites with static RSA first at @SECLEVEL=0, RSA 2048 leaf',
    port: 'submission',
    facts: {
      starttls: true,
      authBeforeTls: false,
      protocols: { ...NO_TLS, 'TLSv1.0': true, 'TLSv1.1': true, 'TLSv1.2': true },
      anonymousSuites: false,
      serverOrder: true,
      ciphers: { 'TLSv1.0': LEGACY_SUITES, 'TLSv1.1': LEGACY_SUITES, 'TLSv1.2': LEGACY_SUITES },
      certificate: { ...TEST_CA_EC, keyType: 'rsa', keyBits: 2048 },
    },
  },
  {
    name: 'no-starttls',
    summary: 'smtpd_tls_security_level=none: no STARTTLS on smtp or submission',
    port: 'submission',
    facts: {
      starttls: false,
      authBeforeTls: false,
      protocols: NO_TLS,
      anonymousSuites: false,
      serverOrder: false,
      certificate: null,
    },
  },
  {
    name: 'auth-before-tls',
    summary: 'smtpd_tls_auth_only=no: submission offers AUTH before STARTTLS',
    port: 'submission',
    sameTlsAs: 'defaults',
    facts: {
      starttls: true,
      authBeforeTls: true,
      protocols: TLS10_TO_13,
      anonymousSuites: true,
      serverOrder: false,
      certificate: TEST_CA_EC,
    },
  },
  {
    name: 'expired',
    summary: 'leaf of the test CA that expired 30 days ago',
    port: 'submission',
    sameTlsAs: 'defaults',
    facts: {
      starttls: true,
      authBeforeTls: false,
      protocols: TLS10_TO_13,
      anonymousSuites: true,
      serverOrder: false,
      certificate: { ...TEST_CA_EC, trusted: false, expired: true },
    },
  },
  {
    name: 'self-signed',
    summary: 'self-signed leaf for localhost',
    port: 'submission',
    sameTlsAs: 'defaults',
    facts: {
      starttls: true,
      authBeforeTls: false,
      protocols: TLS10_TO_13,
      anonymousSuites: true,
      serverOrder: false,
      certificate: { ...TEST_CA_EC, trusted: false, selfSigned: true },
    },
  },
];

/** The variant called `name`. */
export function postfixVariant(name: VariantName): PostfixVariant {
  const variant = POSTFIX_VARIANTS.find((v) => v.name === name);
  if (!variant) throw new Error(`no Postfix variant ${name}`);
  return variant;
}

const ALT_NAMES = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
const DAY_MS = 86_400_000;

type LeafKind = 'rsa' | 'expired' | 'self-signed';

/** Writes a localhost leaf into `dir` (key root-owned 0600: Postfix reads it as root). */
async function writeLeaf(dir: string, kind: LeafKind): Promise<{ certFile: string; keyFile: string }> {
  const pki = await testPki();
  const issuer = { cert: pki.caCert, key: pki.caKey };
  const keyType: KeyType = kind === 'rsa' ? 'rsa2048' : 'ec';
  const now = Date.now();
  const leaf = await createCertificate({
    commonName: 'localhost',
    altNames: ALT_NAMES,
    keyType,
    ...(kind === 'self-signed' ? {} : { issuer }),
    ...(kind === 'expired'
      ? { notBefore: new Date(now - 400 * DAY_MS), notAfter: new Date(now - 30 * DAY_MS) }
      : { days: 30 }),
  });
  const certFile = join(dir, `${kind}.pem`);
  const keyFile = join(dir, `${kind}.key`);
  await writeFile(certFile, leaf.cert, { mode: 0o644 });
  await writeFile(keyFile, leaf.key, { mode: 0o600 });
  return { certFile, keyFile };
}

/** startPostfix() options of a variant, and the leaf it needs made first (if any). */
function optionsOf(name: VariantName): { options: PostfixOptions; leaf?: LeafKind } {
  switch (name) {
    case 'defaults':
      return { options: {} };
    case 'modern': {
      const range = '>=TLSv1.2';
      return {
        options: {
          extraMain: {
            smtpd_tls_protocols: range,
            smtpd_tls_mandatory_protocols: range,
            smtpd_tls_ciphers: 'high',
            smtpd_tls_mandatory_ciphers: 'high',
            tls_high_cipherlist: 'ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL',
            tls_preempt_cipherlist: 'yes',
          },
        },
      };
    }
    case 'legacy': {
      const range = '>=TLSv1, <=TLSv1.2';
      return {
        leaf: 'rsa',
        options: {
          extraMain: {
            smtpd_tls_protocols: range,
            smtpd_tls_mandatory_protocols: range,
            smtpd_tls_ciphers: 'high',
            smtpd_tls_mandatory_ciphers: 'high',
            tls_high_cipherlist: 'kRSA+SHA1:ECDHE+SHA1:DHE+SHA1:!aNULL:!eNULL:@SECLEVEL=0',
            tls_preempt_cipherlist: 'yes',
          },
        },
      };
    }
    case 'no-starttls':
      return {
        options: { extraMain: { smtpd_tls_security_level: 'none' }, submissionTlsLevel: 'none' },
      };
    case 'auth-before-tls':
      return { options: { tlsAuthOnly: false } };
    case 'expired':
      return { options: {}, leaf: 'expired' };
    case 'self-signed':
      return { options: {}, leaf: 'self-signed' };
  }
}

/**
 * Starts a private Postfix configured as the variant (about 0.3 s). Call `stop()` when done.
 *
 * @example const v = await startVariant('legacy'); // audit v.host:v.port --starttls --ca v.caFile
 */
export async function startVariant(name: VariantName): Promise<RunningVariant> {
  const variant = postfixVariant(name);
  const { options, leaf } = optionsOf(name);
  const certDir = leaf ? await tempDir(`variant-${name}`) : undefined;
  let postfix: PostfixInstance;
  try {
    const cert = certDir && leaf ? await writeLeaf(certDir, leaf) : undefined;
    postfix = await startPostfix({ ...options, ...(cert ? { cert } : {}) });
  } catch (err) {
    if (certDir) await removeTempDir(certDir);
    throw err;
  }
  return {
    variant,
    postfix,
    host: postfix.host,
    port: postfix.ports[variant.port],
    caFile: postfix.caFile,
    async stop() {
      await postfix.stop();
      if (certDir) await removeTempDir(certDir);
    },
  };
}
