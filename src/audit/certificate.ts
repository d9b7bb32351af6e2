/**
 * The certificate probe of `postern audit`: the chain the server presents, whether OpenSSL verifies it against the
 * system roots (or --ca), which names it covers, OCSP stapling, and whether a second connection resumes the first
 * one's session — by session ID (TLS 1.2, tickets refused) and by ticket.
 */
import type { TLSSocket } from 'node:tls';
import { InputError, isPosternError } from '../core/index.js';
import { certificateMatchesName, startTls, type TlsProbeOptions, TlsSessionCache } from '../net/index.js';
import {
  type ClientTlsOptions,
  createCa,
  describeCertificate,
  parsePins,
  serverIdentity,
  spkiSha256,
} from '../tls/index.js';
import { DEFAULT_AUDIT_TIMEOUT, openTlsProbe } from './connect.js';
import type { AuditTarget, CertificateResult, CertificateSummary } from './types.js';

export interface CertificateCheckOptions {
  /** CA certificates (PEM) trusted instead of the system roots. */
  readonly ca?: Buffer | undefined;
  /** More names the certificate should cover, e.g. the MX names of the audited domain. */
  readonly names?: readonly string[] | undefined;
  /** SPKI pin(s), "sha256/BASE64"; sets `pinMatches`. */
  readonly pin?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** How long to wait for a TLS 1.3 ticket after the handshake (it arrives in a post-handshake message). */
const TICKET_WAIT = 2_000;
/** How long a server is given to answer our close_notify. */
const CLOSE_WAIT = 1_000;

/**
 * The verdict of OpenSSL's chain check that is about the name only: Node's `checkServerIdentity` runs once the
 * chain has verified and reports a mismatch in `authorizationError` under this code.
 */
const NAME_ONLY = 'ERR_TLS_CERT_ALTNAME_INVALID';

/**
 * A CA that trusts nothing. Handshaking with it as the only anchor keeps Node from appending a root of its own
 * store to the chain, so `getPeerCertificate(true)` lists only what the server sent.
 */
let trustNothing: Promise<string> | undefined;
function untrustedAnchor(): Promise<string> {
  trustNothing ??= createCa({ commonName: 'postern audit (trusts nothing)' }).then((ca) => ca.cert);
  return trustNothing;
}

interface Connection {
  readonly socket: TLSSocket;
  /**
   * The first session the server handed out. A TLS 1.2 session comes with the handshake; a TLS 1.3 ticket follows
   * it, so for TLS 1.3 this waits for one (briefly: a server may issue none).
   */
  session(): Promise<Buffer | undefined>;
  /**
   * Ends TLS with close_notify and waits (briefly) for the server to close: OpenSSL drops a session from its
   * cache when a connection ends without a clean shutdown, which would spoil the session-ID test.
   */
  close(): Promise<void>;
}

interface Probe {
  readonly target: AuditTarget;
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
}

/** One TLS connection to the target (after STARTTLS where the target needs it); certificate errors do not end it. */
async function connect(
  p: Probe,
  tls: ClientTlsOptions,
  extra: { session?: Buffer | undefined; probe?: TlsProbeOptions | undefined } = {},
): Promise<Connection> {
  const plain = await openTlsProbe(p.target, p.signal);
  const cache = new TlsSessionCache(1);
  const socket = await startTls(plain, {
    host: p.target.host,
    port: p.target.port,
    tls,
    handshakeTimeout: p.timeout,
    phase: p.target.mode === 'implicit' ? 'tls' : 'starttls',
    signal: p.signal,
    sessionCache: cache,
    sessionKey: 'probe',
    ...(extra.session ? { session: extra.session } : {}),
    ...(extra.probe ? { probe: extra.probe } : {}),
  });
  socket.on('error', () => {});
  // Nothing reads the SMTP greeting (implicit TLS) or waits for data; flowing mode lets a ticket be processed.
  socket.resume();
  const session = () =>
    new Promise<Buffer | undefined>((resolve) => {
      const cached = cache.get('probe');
      if (cached || socket.destroyed || socket.getProtocol() !== 'TLSv1.3') {
        resolve(cached);
        return;
      }
      const done = (value?: Buffer) => {
        clearTimeout(timer);
        socket.off('session', done);
        socket.off('close', onClose);
        resolve(value);
      };
      const onClose = () => done(undefined);
      const timer = setTimeout(() => done(undefined), Math.min(p.timeout, TICKET_WAIT));
      socket.on('session', done);
      socket.once('close', onClose);
    });
  const close = () =>
    new Promise<void>((resolve) => {
      if (socket.destroyed) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(done, Math.min(p.timeout, CLOSE_WAIT));
      socket.once('close', done);
      socket.end();
    });
  return { socket, session, close };
}

/**
 * OpenSSL's verification texts for X509_V_ERR codes Node has no name for: Node reports those as "UNSPECIFIED"
 * (they are what security level 1 adds: weak signature hashes and small keys).
 */
const OPENSSL_TEXTS: Readonly<Record<string, string>> = {
  'CA signature digest algorithm too weak': 'CA_MD_TOO_WEAK',
  'EE certificate key too weak': 'EE_KEY_TOO_SMALL',
  'CA certificate key too weak': 'CA_KEY_TOO_SMALL',
  'key usage does not include certificate signing': 'KEYUSAGE_NO_CERTSIGN',
  'invalid or inconsistent certificate extension': 'INVALID_EXTENSION',
};

/** The verification error of a connection, by OpenSSL's name (X509_V_ERR_… without the prefix). */
function verifyCode(socket: TLSSocket): string | undefined {
  const code = socket.authorizationError ? String(socket.authorizationError) : undefined;
  if (code !== 'UNSPECIFIED') return code;
  // The native handle still has OpenSSL's text; it is not public API, hence the guarded access.
  const handle = (socket as unknown as { ssl?: { verifyError?: () => Error | null } }).ssl;
  const text = handle?.verifyError?.()?.message ?? '';
  return OPENSSL_TEXTS[text] ?? code;
}

/** Whether the failure says the server would not do what this client offered (version or ciphers). */
function refusedOffer(err: unknown): boolean {
  return isPosternError(err) && (err.code === 'ETLS_VERSION' || err.code === 'ETLS_HANDSHAKE');
}

function pinsOf(pin: string): string[] {
  try {
    return parsePins(pin);
  } catch (cause) {
    throw new InputError('EINVALID_ARGUMENT', (cause as Error).message, { cause });
  }
}

/** DER certificates as the server sent them, leaf first. */
function presentedChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let current = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | undefined;
  while (current?.raw && !chain.some((der) => der.equals(current!.raw!))) {
    chain.push(current.raw);
    current = current.issuerCertificate as typeof current;
  }
  return chain;
}

/** A certificate as the audit report shows it. */
export function summariseCertificate(der: Buffer, now: Date = new Date()): CertificateSummary {
  const info = describeCertificate(der, now);
  return {
    subject: info.subject,
    issuer: info.issuer,
    altNames: info.altNames,
    validFrom: info.validFrom.toISOString(),
    validTo: info.validTo.toISOString(),
    daysLeft: info.daysLeft,
    selfSigned: info.selfSigned,
    keyType: info.keyType,
    keyBits: info.keyBits,
    signatureAlgorithm: info.signatureAlgorithm,
    fingerprintSha256: info.fingerprintSha256,
    spkiSha256: info.spkiSha256,
    der: der.toString('base64'),
  };
}

/** Offers `session` on a new connection; true when the server took it (null when the connection failed). */
async function resumes(
  p: Probe,
  tls: ClientTlsOptions,
  session: Buffer,
  probe: TlsProbeOptions | undefined,
): Promise<boolean | null> {
  try {
    const again = await connect(p, tls, { session, probe });
    const reused = again.socket.isSessionReused();
    await again.close();
    return reused;
  } catch {
    return null;
  }
}

/** The ticket the connection received (TLS 1.3, or TLS 1.2 when the server sent a NewSessionTicket); closes it. */
async function ticketOf(connection: Connection): Promise<Buffer | undefined> {
  try {
    const session = await connection.session();
    const tls12Ticket = connection.socket.getTLSTicket() !== undefined;
    return connection.socket.getProtocol() === 'TLSv1.3' || tls12Ticket ? session : undefined;
  } finally {
    await connection.close();
  }
}

/** Session-ID resumption: TLS 1.2 with tickets refused, so only the server's session cache can resume. */
async function sessionIdResumption(p: Probe, tls: ClientTlsOptions): Promise<boolean | null> {
  const probe: TlsProbeOptions = { maxVersion: 'TLSv1.2', noTickets: true };
  let first: Connection;
  try {
    first = await connect(p, tls, { probe });
  } catch {
    return null; // no TLS 1.2 (a TLS 1.3-only server): session IDs do not apply
  }
  const session = await first.session();
  await first.close();
  // No session means the server sent an empty session ID: it keeps no cache.
  if (!session) return false;
  return resumes(p, tls, session, probe);
}

/**
 * Connects to the target and checks its certificate: the presented chain (leaf first), OpenSSL's verdict against
 * the system roots or `ca`, the names it covers (the target's, then `names`), OCSP stapling, session resumption.
 * Throws the classified TLS error when no TLS handshake completes at all.
 *
 * @example const cert = await checkCertificate({ host: '127.0.0.1', port: 465, mode: 'implicit' }, { ca });
 */
export async function checkCertificate(
  target: AuditTarget,
  options: CertificateCheckOptions = {},
): Promise<CertificateResult> {
  const p: Probe = { target, timeout: target.timeout ?? DEFAULT_AUDIT_TIMEOUT, signal: options.signal };
  const pins = options.pin === undefined ? undefined : pinsOf(options.pin);
  const base = target.servername !== undefined ? { servername: target.servername } : {};
  const anchor = await untrustedAnchor();
  let legacy = false;
  let ocsp: Buffer | undefined;
  const firstOptions = (): ClientTlsOptions => ({
    ...base,
    ca: anchor,
    insecureSkipVerify: true,
    ...(legacy ? { allowLegacyTls: true } : {}),
  });
  const ocspProbe: TlsProbeOptions = {
    onOcspResponse: (response) => {
      ocsp = response;
    },
  };
  let first: Connection;
  try {
    first = await connect(p, firstOptions(), { probe: ocspProbe });
  } catch (err) {
    // A server of TLS 1.0/1.1 only, or of ciphers OpenSSL hides above security level 0: try again with those.
    if (!refusedOffer(err)) throw err;
    legacy = true;
    first = await connect(p, firstOptions(), { probe: ocspProbe });
  }
  const chain = presentedChain(first.socket);
  const negotiated = {
    version: first.socket.getProtocol() ?? 'unknown',
    cipher: first.socket.getCipher()?.name ?? 'unknown',
  };
  // Closed before the next connections: some servers (s_server, small appliances) serve one at a time.
  const ticket = await ticketOf(first);
  const trustOptions: ClientTlsOptions = {
    ...base,
    ...(options.ca ? { ca: options.ca } : {}),
    insecureSkipVerify: true,
    ...(legacy ? { allowLegacyTls: true } : {}),
  };
  const [trust, ticketResumed, sessionId] = await Promise.all([
    connect(p, trustOptions).then(async (trusting) => {
      const verdict = { authorized: trusting.socket.authorized, error: verifyCode(trusting.socket) };
      await trusting.close();
      return verdict;
    }),
    ticket ? resumes(p, firstOptions(), ticket, undefined) : false,
    sessionIdResumption(p, firstOptions()),
  ]);
  const error = trust.error;
  const chainValid = trust.authorized || error === NAME_ONLY;
  const { identity } = serverIdentity(base, target.host);
  const namesChecked = [...new Set([identity, ...(options.names ?? [])])];
  const leaf = chain[0];
  const namesMatched = leaf ? namesChecked.filter((name) => certificateMatchesName(leaf, name)) : [];
  return {
    chain: chain.map((der) => summariseCertificate(der)),
    trusted: chainValid,
    verifyError: chainValid ? undefined : (error ?? 'CERT_REJECTED'),
    nameMatches: namesMatched.includes(identity),
    namesChecked,
    namesMatched,
    ocspStapled: ocsp !== undefined,
    sessionIdResumption: sessionId,
    ticketResumption: ticketResumed,
    negotiated,
    ...(pins && leaf ? { pinMatches: pins.includes(spkiSha256(leaf)) } : {}),
  };
}
