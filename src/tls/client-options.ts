/**
 * What a client can say about TLS, and its translation into node:tls options with secure defaults:
 * certificates verified, TLS 1.2 minimum (RFC 8996/8997), SNI sent for names but never for IP literals.
 */
import type { ConnectionOptions } from 'node:tls';
import { InputError } from '../core/errors.js';
import { revealSecret, type Secret } from '../core/secret.js';
import { isIpLiteral } from './ip-literal.js';
import { parsePins } from './pin.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
type LegacyTlsVersion = 'TLSv1' | 'TLSv1.1';

export interface ClientTlsOptions {
  /**
   * Trusted CA certificates (PEM). When given they REPLACE the system roots, as in Node and nodemailer:
   * a private CA is usually all a private server should be trusted by. To trust both, pass
   * `[...tls.rootCertificates, myCa]`.
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** The name to send as SNI and to check the certificate against; default: the host, unless it is an IP literal. */
  readonly servername?: string;
  /** Default `'TLSv1.2'`. Lower versions need `allowLegacyTls: true`. */
  readonly minVersion?: TlsVersion;
  /**
   * Permits TLS 1.0/1.1 and the weak algorithms they need (OpenSSL security level 0), for old servers only.
   * RFC 8996 deprecates both versions; never set this for submission with a password.
   */
  readonly allowLegacyTls?: boolean;
  /** Accepts any certificate. For test servers only; combine with `pin` to still know whom you talk to. */
  readonly insecureSkipVerify?: boolean;
  /** SPKI pins, "sha256/BASE64" (or bare base64); the connection fails unless the server key matches one. */
  readonly pin?: string | readonly string[];
  /** Client certificate and key (PEM) for servers that ask for one. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly passphrase?: Secret | string;
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are not affected). */
  readonly ciphers?: string;
}

const VERSIONS: readonly string[] = ['TLSv1.2', 'TLSv1.3'];
const LEGACY_VERSIONS: readonly string[] = ['TLSv1', 'TLSv1.1'];

/** The minimum protocol version these options allow (for messages and for the handshake). */
export function effectiveMinVersion(o: ClientTlsOptions): TlsVersion | LegacyTlsVersion {
  const requested = o.minVersion as string | undefined;
  if (requested !== undefined && !VERSIONS.includes(requested)) {
    if (!(o.allowLegacyTls && LEGACY_VERSIONS.includes(requested))) {
      throw new InputError('EINVALID_ARGUMENT', `minVersion ${JSON.stringify(requested)} is not allowed`, {
        hint: "use 'TLSv1.2' or 'TLSv1.3'; TLS 1.0/1.1 need allowLegacyTls: true (RFC 8996 deprecates them)",
      });
    }
    return requested as LegacyTlsVersion;
  }
  if (o.allowLegacyTls && requested === undefined) return 'TLSv1';
  return (requested as TlsVersion | undefined) ?? 'TLSv1.2';
}

/**
 * The name a certificate is checked against and whether it goes into SNI.
 * RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
 */
export function serverIdentity(
  o: ClientTlsOptions,
  host: string,
): { identity: string; sni: string | undefined } {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const identity = o.servername ?? bare;
  return { identity, sni: isIpLiteral(identity) ? undefined : identity };
}

/**
 * Translates ClientTlsOptions into node:tls ConnectionOptions for connecting to `host`.
 * The pin is not part of the result: it is checked after the handshake (net/startTls).
 *
 * @example tls.connect({ socket, ...toNodeTlsOptions({ ca: caPem }, 'mail.example.com') })
 */
export function toNodeTlsOptions(o: ClientTlsOptions, host: string): ConnectionOptions {
  const minVersion = effectiveMinVersion(o);
  if (o.pin !== undefined) {
    try {
      parsePins(o.pin);
    } catch (cause) {
      throw new InputError('EINVALID_ARGUMENT', (cause as Error).message, { cause });
    }
  }
  if ((o.cert === undefined) !== (o.key === undefined)) {
    throw new InputError('EINVALID_ARGUMENT', 'a client certificate needs both cert and key');
  }
  const { identity, sni } = serverIdentity(o, host);
  const legacy = minVersion === 'TLSv1' || minVersion === 'TLSv1.1';
  const out: ConnectionOptions = {
    // With `socket` given, node:tls uses `host` only for the identity check, so it carries the expected name.
    host: identity,
    rejectUnauthorized: o.insecureSkipVerify !== true,
    minVersion,
  };
  if (sni !== undefined) out.servername = sni;
  if (o.ca !== undefined) out.ca = typeof o.ca === 'string' || Buffer.isBuffer(o.ca) ? o.ca : [...o.ca];
  if (o.cert !== undefined) out.cert = o.cert;
  if (o.key !== undefined) out.key = o.key;
  if (o.passphrase !== undefined) out.passphrase = revealSecret(o.passphrase);
  // OpenSSL 3 refuses TLS 1.0/1.1 handshakes (SHA-1/MD5 signatures) above security level 0.
  if (o.ciphers !== undefined || legacy)
    out.ciphers = `${o.ciphers ?? 'DEFAULT'}${legacy ? ':@SECLEVEL=0' : ''}`;
  return out;
}
