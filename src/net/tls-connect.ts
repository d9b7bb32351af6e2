/**
 * Upgrading a connected TCP socket to TLS — for implicit TLS right after connect, or after STARTTLS.
 * Resolves only once the certificate is verified and the pin (if any) matches; every failure is a
 * classified PosternError and leaves both sockets destroyed.
 */
import { constants, X509Certificate } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import { TlsError } from '../core/errors.js';
import { withTimeout } from '../core/timeout.js';
import {
  type CertificateInfo,
  type ClientTlsOptions,
  classifyTlsError,
  describeCertificate,
  effectiveMinVersion,
  parsePins,
  serverIdentity,
  spkiSha256,
  TLS_EXPORTER_LABEL,
  TLS_EXPORTER_LENGTH,
  tlsServerEndPoint,
  toNodeTlsOptions,
} from '../tls/index.js';
import { TlsSessionCache } from './session-cache.js';

export const DEFAULT_HANDSHAKE_TIMEOUT = 15_000;

export interface StartTlsOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: ClientTlsOptions;
  /** Milliseconds for the whole handshake; default 15000. */
  readonly handshakeTimeout?: number | undefined;
  /** A session to resume; wins over the cache. */
  readonly session?: Buffer | undefined;
  readonly signal?: AbortSignal | undefined;
  /** 'tls' for implicit TLS, 'starttls' after the STARTTLS command; errors carry it. */
  readonly phase: 'tls' | 'starttls';
  /** Offers a cached session and stores new ones (TLS 1.3 tickets arrive after the handshake). */
  readonly sessionCache?: TlsSessionCache | undefined;
  /** Cache key; default `TlsSessionCache.key(host, port, tls.servername)`. */
  readonly sessionKey?: string | undefined;
  /** For audits: handshake variants and what a plain client does not ask for. */
  readonly probe?: TlsProbeOptions | undefined;
}

export interface TlsProbeOptions {
  /** The highest version to offer, e.g. 'TLSv1.2' to test session-ID resumption. */
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3' | undefined;
  /** Offer no session ticket (SSL_OP_NO_TICKET), so a TLS 1.2 server must resume by session ID. */
  readonly noTickets?: boolean | undefined;
  /** Asks for a stapled OCSP response (status_request) and receives it; undefined when none was stapled. */
  readonly onOcspResponse?: ((response: Buffer | undefined) => void) | undefined;
}

function handshakeHint(phase: 'tls' | 'starttls'): string {
  return phase === 'tls'
    ? "the server did not answer the TLS handshake — it may expect plaintext first; try tls: 'starttls'"
    : 'the server accepted STARTTLS but did not complete the handshake';
}

/**
 * Runs the client TLS handshake over `socket` and checks the server certificate and pins.
 *
 * @example
 * const { socket } = await connectTcp({ host, port: 465 });
 * const secure = await startTls(socket, { host, port: 465, tls: {}, phase: 'tls' });
 */
export async function startTls(socket: net.Socket, o: StartTlsOptions): Promise<tls.TLSSocket> {
  let nodeOptions: tls.ConnectionOptions;
  let pins: string[] | undefined;
  try {
    nodeOptions = toNodeTlsOptions(o.tls, o.host);
    pins = o.tls.pin === undefined ? undefined : parsePins(o.tls.pin);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  const { identity } = serverIdentity(o.tls, o.host);
  const verify = o.tls.insecureSkipVerify !== true;
  const key = o.sessionKey ?? TlsSessionCache.key(o.host, o.port, o.tls.servername);
  const cached = o.session ? undefined : o.sessionCache?.entry(key);
  const session = o.session ?? cached?.session;
  const context = {
    host: o.host,
    port: o.port,
    phase: o.phase,
    servername: identity === o.host ? undefined : identity,
    minVersion: effectiveMinVersion(o.tls),
  };

  // Node's own rejectUnauthorized destroys the socket before the certificate can be read; checking
  // `authorized` ourselves (exactly what Node does internally) lets the error name the certificate's
  // dates and names. Nothing is written before the check passes.
  let identityError: Error | undefined;
  const probe = o.probe;
  const secure = tls.connect({
    ...nodeOptions,
    secureContext: probe ? probeContext(nodeOptions, probe) : sharedContext(o.tls, nodeOptions),
    ...(probe?.onOcspResponse ? { requestOCSP: true } : {}),
    socket,
    rejectUnauthorized: false,
    ...(session ? { session } : {}),
    checkServerIdentity: (hostname, cert) => {
      identityError = tls.checkServerIdentity(hostname, cert);
      return identityError;
    },
  });

  // Sessions are cached only from connections that passed verification, with the certificate verified.
  let verified = false;
  let pending: Buffer | undefined;
  secure.on('session', (s: Buffer) => {
    if (verified) o.sessionCache?.set(key, s, peerCertificates.get(secure));
    else pending = s;
  });

  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const handshake = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const onSecure = () => settle?.resolve();
  const onError = (err: Error) => settle?.reject(err);
  secure.once('secureConnect', onSecure);
  secure.on('error', onError);
  const onOcsp = probe?.onOcspResponse;
  if (onOcsp)
    secure.once('OCSPResponse', (response?: Buffer) => onOcsp(response?.length ? response : undefined));
  try {
    await withTimeout(handshake, o.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT, o.phase, {
      signal: o.signal,
      hint: handshakeHint(o.phase),
    });
    // A resumed session was verified when it was made; its certificate comes from the cache.
    const raw = liveCertificate(secure) ?? (secure.isSessionReused() ? cached?.peerCertificate : undefined);
    if (raw) peerCertificates.set(secure, raw);
    if (verify && !secure.authorized) {
      const code = secure.authorizationError ? String(secure.authorizationError) : 'CERT_REJECTED';
      const cause =
        identityError ?? Object.assign(new Error(`certificate verification failed: ${code}`), { code });
      throw classifyTlsError(cause, { ...context, peerCertificate: raw });
    }
    if (pins) checkPin(raw, pins, o);
  } catch (err) {
    // onError stays attached: a late error from the dying socket must not go unhandled.
    secure.destroy();
    socket.destroy();
    if (session) o.sessionCache?.delete(key);
    throw classifyTlsError(err, context);
  }
  // From here on errors belong to the caller, who attaches its own listener.
  secure.off('error', onError);
  secure.off('secureConnect', onSecure);
  verified = true;
  if (pending) o.sessionCache?.set(key, pending, peerCertificates.get(secure));
  return secure;
}

/**
 * One SecureContext per options object: building one parses the CA bundle (or loads the system roots), which
 * costs more CPU than a resumed handshake. A transport passes the same options object for every connection.
 */
const contexts = new WeakMap<ClientTlsOptions, tls.SecureContext>();

function sharedContext(options: ClientTlsOptions, nodeOptions: tls.ConnectionOptions): tls.SecureContext {
  let context = contexts.get(options);
  if (!context) {
    context = tls.createSecureContext(nodeOptions);
    contexts.set(options, context);
  }
  return context;
}

/** A context of its own: probe variants must not leak into the shared contexts of ordinary connections. */
function probeContext(nodeOptions: tls.ConnectionOptions, probe: TlsProbeOptions): tls.SecureContext {
  return tls.createSecureContext({
    ...nodeOptions,
    ...(probe.maxVersion ? { maxVersion: probe.maxVersion } : {}),
    ...(probe.noTickets ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
  });
}

/**
 * Whether a certificate (DER) is valid for `name` (a host name or IP address), by Node's own
 * `checkServerIdentity` — the check every TLS connection makes.
 *
 * @example certificateMatchesName(der, 'mail.example.com') // true
 */
export function certificateMatchesName(der: Buffer, name: string): boolean {
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  const cert = new X509Certificate(der).toLegacyObject();
  return tls.checkServerIdentity(bare, cert) === undefined;
}

/** The verified peer certificate of each socket startTls returned; resumed sockets report none themselves. */
const peerCertificates = new WeakMap<tls.TLSSocket, Buffer>();

function liveCertificate(s: tls.TLSSocket): Buffer | undefined {
  const cert = s.getPeerCertificate();
  return cert && 'raw' in cert && Buffer.isBuffer(cert.raw) ? cert.raw : undefined;
}

function peerCertificateDer(s: tls.TLSSocket): Buffer | undefined {
  return liveCertificate(s) ?? peerCertificates.get(s);
}

function checkPin(raw: Buffer | undefined, pins: readonly string[], o: StartTlsOptions): void {
  const actual = raw ? spkiSha256(raw) : undefined;
  if (actual !== undefined && pins.includes(actual)) return;
  throw new TlsError(
    'ETLS_PIN_MISMATCH',
    actual === undefined
      ? `${o.host} port ${o.port} presented no certificate to check the pin against (a resumed session of unknown origin)`
      : `the key of ${o.host} port ${o.port} (sha256/${actual}) matches none of the ${pins.length} pinned keys`,
    {
      phase: o.phase,
      transient: false,
      hint: 'if the server changed its key on purpose, update tls.pin; otherwise someone may be intercepting the connection',
    },
  );
}

export interface TlsDetails {
  /** "TLSv1.3", "TLSv1.2", … */
  readonly version: string;
  /** OpenSSL cipher name, e.g. "TLS_AES_256_GCM_SHA384". */
  readonly cipher: string;
  readonly resumed: boolean;
  readonly peerCertificate: CertificateInfo | undefined;
  /** Whether the certificate chain and name verified (false with insecureSkipVerify and a bad certificate). */
  readonly authorized: boolean;
  readonly authorizationError?: string | undefined;
}

/** What was negotiated, for transcripts and reports. */
export function tlsDetails(s: tls.TLSSocket): TlsDetails {
  // Describing the certificate parses it; most callers never look, so it is done on first access.
  let described: { value: CertificateInfo | undefined } | undefined;
  return {
    version: s.getProtocol() ?? 'unknown',
    cipher: s.getCipher()?.name ?? 'unknown',
    resumed: s.isSessionReused(),
    get peerCertificate(): CertificateInfo | undefined {
      if (!described) {
        const raw = peerCertificateDer(s);
        try {
          described = { value: raw ? describeCertificate(raw) : undefined };
        } catch {
          described = { value: undefined };
        }
      }
      return described.value;
    },
    authorized: s.authorized,
    authorizationError: s.authorizationError ? String(s.authorizationError) : undefined,
  };
}

export interface ChannelBindings {
  /** RFC 9266; only over TLS 1.3 (TLS 1.2 would need the extended master secret to be safe). */
  readonly 'tls-exporter'?: Buffer;
  /** RFC 5929 §4.1; absent when the certificate's signature algorithm defines no hash (Ed25519). */
  readonly 'tls-server-end-point'?: Buffer;
}

/** Channel binding data of an established client connection, for SCRAM-*-PLUS. */
export function channelBindings(s: tls.TLSSocket): ChannelBindings {
  const out: { -readonly [K in keyof ChannelBindings]: ChannelBindings[K] } = {};
  if (s.getProtocol() === 'TLSv1.3') {
    // RFC 9266 §2: empty context (in TLS 1.3 the same exporter input as no context, RFC 8446 §7.5).
    out['tls-exporter'] = s.exportKeyingMaterial(TLS_EXPORTER_LENGTH, TLS_EXPORTER_LABEL, Buffer.alloc(0));
  }
  const raw = peerCertificateDer(s);
  const endPoint = raw ? tlsServerEndPoint(raw) : undefined;
  if (endPoint) out['tls-server-end-point'] = endPoint;
  return out;
}
