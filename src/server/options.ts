/**
 * What a server is configured with, and the checks that turn a configuration into one that can run.
 * Mistakes (a TLS endpoint without certificates, requireAuth without a store) fail at construction with
 * ECONFIG, not at the first client.
 */
import { hostname as osHostname } from 'node:os';
import { InputError } from '../core/errors.js';
import { type Logger, silentLogger, type TranscriptEvent } from '../core/index.js';
import type { BareLineEndingPolicy } from '../protocol/index.js';
import type { SaslCredentialStore } from '../sasl/index.js';
import { type ServerCertificateConfig, type TlsProfileName, tlsProfile } from '../tls/index.js';
import type { ServerBackend } from './hooks.js';
import { type ResolvedLimits, resolveLimits, type ServerLimits } from './limits.js';
import type { EndpointTls } from './session.js';
import type { MessageStore } from './stores/types.js';

export interface EndpointOptions {
  /** Default '127.0.0.1'. Use '::' or '0.0.0.0' to accept from other hosts. */
  readonly host?: string;
  /** 0 picks a free port (see the addresses listen() returns). */
  readonly port: number;
  /** 'implicit': TLS from the first byte (465); 'starttls': plaintext with STARTTLS (587/25); 'none': tests. */
  readonly tls: EndpointTls;
  /** Read a PROXY protocol v1/v2 header first; connections from other addresses are dropped. */
  readonly proxyProtocol?: { readonly trusted: readonly string[] };
}

export interface AuthOptions {
  readonly store: SaslCredentialStore;
  /** Mechanisms to offer, in this order; default: all the store supports, strongest first. */
  readonly mechanisms?: readonly string[];
  /** CRAM-MD5 needs plaintext-equivalent secrets; off by default. */
  readonly allowCramMd5?: boolean;
  /** MAIL only after AUTH (530 5.7.0 otherwise). */
  readonly requireAuth?: boolean;
  /** Offer AUTH without TLS. Passwords then cross the network readable: for loopback tests only. */
  readonly allowPlaintextAuth?: boolean;
  /**
   * Secret for SCRAM's fake salts of unknown users (≥ 16 bytes; keep it stable across restarts).
   * Default: kept in dataDir when there is one, else random per process.
   */
  readonly secretForFakeSalts?: Buffer;
}

/** The transcript of one connection: every line in and out (AUTH payloads redacted), TLS and close events. */
export type ServerTranscriptListener = (
  event: TranscriptEvent,
  session: { readonly id: string; readonly remote: string },
) => void;

export interface SmtpServerOptions {
  readonly endpoints: readonly EndpointOptions[];
  /**
   * Certificates: `{ cert, key }` (PEM), `{ certFile, keyFile }` (reloadable), `{ sni: { name: … }, default }`,
   * or 'auto' (a local CA and certificate generated in dataDir/tls, or in memory without dataDir). Default 'auto'.
   */
  readonly tls?: ServerCertificateConfig | 'auto';
  /** Where 'auto' keeps its certificate and SCRAM its fake-salt secret. */
  readonly dataDir?: string;
  /** Names for the 'auto' certificate; default localhost, 127.0.0.1, ::1 and the hostname. */
  readonly autoCertificateNames?: readonly string[];
  /** Default 'intermediate' (TLS 1.2+ with forward-secret AEAD suites). */
  readonly profile?: TlsProfileName;
  readonly auth?: AuthOptions;
  /** Refuse everything but EHLO/HELO/STARTTLS/NOOP/RSET/QUIT/HELP before TLS (530 5.7.0). */
  readonly requireTls?: boolean;
  readonly limits?: ServerLimits;
  readonly backend?: ServerBackend;
  /** Where messages go when the backend has no onData; default a MemoryStore. */
  readonly store?: MessageStore;
  /** The name in the greeting, EHLO and Received headers; default os.hostname(). */
  readonly hostname?: string;
  readonly logger?: Logger;
  readonly transcript?: ServerTranscriptListener;
  /** Bare CR or LF in DATA: 'reject' (521 and disconnect, the default) or 'normalize' to CRLF. */
  readonly bareLineEndings?: BareLineEndingPolicy;
  /** Add a Received: header (default true). */
  readonly receivedHeader?: boolean;
}

export interface ResolvedEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: EndpointTls;
  readonly proxyProtocol: { readonly trusted: readonly string[] } | undefined;
}

export interface ResolvedOptions {
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly tls: ServerCertificateConfig | 'auto';
  readonly needsTls: boolean;
  readonly dataDir: string | undefined;
  readonly autoCertificateNames: readonly string[];
  readonly profile: TlsProfileName;
  readonly auth: AuthOptions | undefined;
  readonly requireAuth: boolean;
  readonly requireTls: boolean;
  readonly limits: ResolvedLimits;
  readonly backend: ServerBackend;
  readonly hostname: string;
  readonly logger: Logger;
  readonly transcript: ServerTranscriptListener | undefined;
  readonly bareLineEndings: BareLineEndingPolicy;
  readonly receivedHeader: boolean;
}

function config(message: string, hint?: string): InputError {
  return new InputError('ECONFIG', message, { hint });
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export function resolveOptions(o: SmtpServerOptions): ResolvedOptions {
  if (!o || !Array.isArray(o.endpoints) || o.endpoints.length === 0) {
    throw config(
      'endpoints is empty',
      "give at least one, e.g. { host: '127.0.0.1', port: 2525, tls: 'starttls' }",
    );
  }
  const endpoints = o.endpoints.map((e): ResolvedEndpoint => {
    if (e.tls !== 'implicit' && e.tls !== 'starttls' && e.tls !== 'none') {
      throw config(`endpoint tls must be 'implicit', 'starttls' or 'none', not ${JSON.stringify(e.tls)}`);
    }
    if (!Number.isInteger(e.port) || e.port < 0 || e.port > 65535) throw config(`bad port ${String(e.port)}`);
    return { host: e.host ?? '127.0.0.1', port: e.port, tls: e.tls, proxyProtocol: e.proxyProtocol };
  });
  const needsTls = endpoints.some((e) => e.tls !== 'none');
  const requireTls = o.requireTls === true;
  if (requireTls && endpoints.some((e) => e.tls === 'none')) {
    throw config("requireTls cannot be met on an endpoint with tls: 'none'", "use 'starttls' or 'implicit'");
  }
  const requireAuth = o.auth?.requireAuth === true;
  if (o.auth && typeof o.auth.store !== 'object') throw config('auth.store must be a credential store');
  const hostname = o.hostname ?? osHostname();
  if (!HOSTNAME.test(hostname)) throw config(`hostname ${JSON.stringify(hostname)} is not a host name`);
  tlsProfile(o.profile); // throws for an unknown name
  if (
    o.bareLineEndings !== undefined &&
    o.bareLineEndings !== 'reject' &&
    o.bareLineEndings !== 'normalize'
  ) {
    throw config("bareLineEndings must be 'reject' or 'normalize'");
  }
  if (o.auth?.secretForFakeSalts !== undefined && o.auth.secretForFakeSalts.length < 16) {
    throw config('auth.secretForFakeSalts must be at least 16 bytes');
  }
  return {
    endpoints,
    tls: o.tls ?? 'auto',
    needsTls,
    dataDir: o.dataDir,
    autoCertificateNames: o.autoCertificateNames ?? ['localhost', '127.0.0.1', '::1', hostname],
    profile: o.profile ?? 'intermediate',
    auth: o.auth,
    requireAuth,
    requireTls,
    limits: resolveLimitsOrThrow(o.limits),
    backend: o.backend ?? {},
    hostname,
    logger: o.logger ?? silentLogger,
    transcript: o.transcript,
    bareLineEndings: o.bareLineEndings ?? 'reject',
    receivedHeader: o.receivedHeader !== false,
  };
}

function resolveLimitsOrThrow(limits: ServerLimits | undefined): ResolvedLimits {
  try {
    return resolveLimits(limits);
  } catch (cause) {
    throw config(cause instanceof Error ? cause.message : 'bad limits');
  }
}
