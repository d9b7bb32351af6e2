/**
 * Server TLS profiles after Mozilla's server-side TLS recommendations (modern / intermediate / old).
 * Plain data: net/ turns a profile into a SecureContext.
 */
import { InputError } from '../core/errors.js';

export type TlsProfileName = 'modern' | 'intermediate' | 'old';

export interface TlsProfile {
  readonly name: TlsProfileName;
  readonly minVersion: 'TLSv1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS ≤ 1.2; TLS 1.3 suites are always OpenSSL's defaults (all strong). */
  readonly ciphers: string | undefined;
  readonly ecdhCurve: string;
  /** Whether the server's cipher order wins (only where weak suites are on the list). */
  readonly honorCipherOrder: boolean;
}

// Forward-secret AEAD suites only, ECDSA and RSA certificates, as in Mozilla's intermediate configuration.
const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

// The old profile adds CBC and non-forward-secret suites for clients from before 2014. OpenSSL 3 only
// negotiates TLS 1.0/1.1 at security level 0, which is why the list ends with it.
const OLD_CIPHERS = [
  INTERMEDIATE_CIPHERS,
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA256',
  'AES256-SHA256',
  'AES128-SHA',
  'AES256-SHA',
  '@SECLEVEL=0',
].join(':');

const CURVES = 'X25519:prime256v1:secp384r1';

export const TLS_PROFILES: Readonly<Record<TlsProfileName, TlsProfile>> = {
  modern: {
    name: 'modern',
    minVersion: 'TLSv1.3',
    ciphers: undefined,
    ecdhCurve: CURVES,
    honorCipherOrder: false,
  },
  intermediate: {
    name: 'intermediate',
    minVersion: 'TLSv1.2',
    ciphers: INTERMEDIATE_CIPHERS,
    ecdhCurve: CURVES,
    honorCipherOrder: false,
  },
  old: { name: 'old', minVersion: 'TLSv1', ciphers: OLD_CIPHERS, ecdhCurve: CURVES, honorCipherOrder: true },
};

/**
 * The profile of a name; 'intermediate' when none is given.
 *
 * @example tlsProfile('modern').minVersion // => 'TLSv1.3'
 */
export function tlsProfile(name: TlsProfileName | undefined): TlsProfile {
  const profile = TLS_PROFILES[name ?? 'intermediate'];
  if (!profile) {
    throw new InputError('ECONFIG', `unknown TLS profile ${JSON.stringify(name)}`, {
      hint: "use 'modern' (TLS 1.3 only), 'intermediate' (the default) or 'old'",
    });
  }
  return profile;
}

/** Key bits of a cipher suite's bulk cipher, from its name (for Received headers and logs). */
export function cipherBits(cipher: string): number | undefined {
  if (/CHACHA20|AES_?256/i.test(cipher)) return 256;
  if (/AES_?128/i.test(cipher)) return 128;
  if (/3DES|DES-CBC3/i.test(cipher)) return 112;
  return undefined;
}
