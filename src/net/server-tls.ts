/**
 * The server side of TLS: SecureContexts built from a certificate set and a profile (with SNI), the
 * handshake on an accepted socket (implicit TLS or after STARTTLS), and what a session negotiated.
 *
 * One SecureContext per certificate lives as long as the certificate set, so TLS session tickets issued by
 * it can be resumed on later connections. A reload builds new contexts; connections in progress keep theirs.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { TlsError } from '../core/errors.js';
import { withTimeout } from '../core/timeout.js';
import {
  type CertificateSet,
  certificateFor,
  cipherBits,
  type LoadedCertificate,
  TLS_EXPORTER_LABEL,
  TLS_EXPORTER_LENGTH,
  type TlsProfile,
  tlsServerEndPoint,
} from '../tls/index.js';

/** What a server connection negotiated. */
export interface ServerTlsInfo {
  /** "TLSv1.3", "TLSv1.2", … */
  readonly version: string;
  /** OpenSSL name of the cipher suite, e.g. "TLS_AES_256_GCM_SHA384". */
  readonly cipher: string;
  readonly bits: number | undefined;
  /** The SNI name the client asked for, if any. */
  readonly servername: string | undefined;
  readonly resumed: boolean;
}

function contextOptions(cert: LoadedCertificate, profile: TlsProfile): tls.SecureContextOptions {
  return {
    cert: cert.cert,
    key: cert.key,
    minVersion: profile.minVersion,
    ...(profile.name === 'modern' ? { maxVersion: 'TLSv1.3' as const } : {}),
    ...(profile.ciphers ? { ciphers: profile.ciphers } : {}),
    ecdhCurve: profile.ecdhCurve,
    honorCipherOrder: profile.honorCipherOrder,
    // Without a session id context OpenSSL refuses to resume TLS 1.2 sessions on a server.
    sessionIdContext: 'postern-smtp',
  };
}

/** SecureContexts for a certificate set: the default, and one per SNI name. */
export class ServerTlsContexts {
  readonly #profile: TlsProfile;
  #set!: CertificateSet;
  #default!: tls.SecureContext;
  #byCert = new Map<LoadedCertificate, tls.SecureContext>();

  constructor(set: CertificateSet, profile: TlsProfile) {
    this.#profile = profile;
    this.update(set);
  }

  /** Replaces the certificates for new handshakes. Throws (keeping the old ones) if a context cannot be built. */
  update(set: CertificateSet): void {
    const byCert = new Map<LoadedCertificate, tls.SecureContext>();
    const build = (cert: LoadedCertificate) => {
      if (!byCert.has(cert)) byCert.set(cert, tls.createSecureContext(contextOptions(cert, this.#profile)));
    };
    build(set.default);
    for (const cert of set.byName.values()) build(cert);
    this.#set = set;
    this.#byCert = byCert;
    this.#default = byCert.get(set.default)!;
  }

  get default(): tls.SecureContext {
    return this.#default;
  }

  /** The context for a server name (SNI), falling back to the default. */
  forName(servername: string | undefined): tls.SecureContext {
    return this.#byCert.get(certificateFor(this.#set, servername)) ?? this.#default;
  }
}

/**
 * Runs the server handshake on `socket`. Resolves with the TLS socket once it is secure; on failure or
 * timeout both sockets are destroyed and a TlsError is thrown.
 *
 * @example const secure = await acceptTls(socket, contexts, { timeout: 15000 });
 */
export async function acceptTls(
  socket: net.Socket,
  contexts: ServerTlsContexts,
  o: { readonly timeout: number },
): Promise<tls.TLSSocket> {
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: contexts.default,
    SNICallback: (servername, callback) => callback(null, contexts.forName(servername)),
    requestCert: false,
    rejectUnauthorized: false,
  });
  const onError = (err: Error) => settle?.reject(err);
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const handshake = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const onSecure = () => settle?.resolve();
  const onClose = () => settle?.reject(new Error('the client closed the connection during the handshake'));
  secure.once('secure', onSecure);
  secure.once('close', onClose);
  secure.on('error', onError);
  try {
    await withTimeout(handshake, o.timeout, 'tls');
  } catch (cause) {
    secure.destroy();
    socket.destroy();
    throw new TlsError('ETLS_HANDSHAKE', 'the TLS handshake with the client failed', { phase: 'tls', cause });
  } finally {
    secure.off('secure', onSecure);
    secure.off('close', onClose);
  }
  // Errors after the handshake belong to the caller; this no-op keeps a late one from being unhandled.
  secure.off('error', onError);
  secure.on('error', () => {});
  return secure;
}

/** Version, cipher and SNI name of an established server connection. */
export function serverTlsInfo(socket: tls.TLSSocket): ServerTlsInfo {
  const cipher = socket.getCipher();
  const name = cipher?.standardName ?? cipher?.name ?? 'unknown';
  const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
  return {
    version: socket.getProtocol() ?? 'unknown',
    cipher: name,
    bits: cipherBits(name),
    servername: typeof servername === 'string' ? servername : undefined,
    resumed: socket.isSessionReused(),
  };
}

/**
 * Channel binding data of a server connection for SCRAM-*-PLUS: "tls-exporter" (RFC 9266) under TLS 1.3,
 * "tls-server-end-point" (RFC 5929) from our own certificate.
 */
export function serverChannelBindings(socket: tls.TLSSocket): {
  readonly 'tls-exporter'?: Buffer;
  readonly 'tls-server-end-point'?: Buffer;
} {
  const out: { 'tls-exporter'?: Buffer; 'tls-server-end-point'?: Buffer } = {};
  if (socket.getProtocol() === 'TLSv1.3') {
    try {
      out['tls-exporter'] = socket.exportKeyingMaterial(
        TLS_EXPORTER_LENGTH,
        TLS_EXPORTER_LABEL,
        Buffer.alloc(0),
      );
    } catch {
      // not available: the mechanism falls back to tls-server-end-point
    }
  }
  const own = socket.getCertificate();
  if (own && 'raw' in own && Buffer.isBuffer(own.raw)) {
    const hash = tlsServerEndPoint(own.raw);
    if (hash) out['tls-server-end-point'] = hash;
  }
  return out;
}
