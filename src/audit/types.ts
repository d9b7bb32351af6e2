/**
 * The audit's data model: what each probe finds, and the report that `postern audit --json` prints
 * (docs/audit-report.schema.json). Probes fill the *Result types; findings.ts turns results into findings;
 * grade.ts turns findings into a grade. Everything here is plain data (JSON-serialisable).
 */

/** How the target is reached. */
export type AuditTlsMode = 'implicit' | 'starttls';

export interface AuditTarget {
  readonly host: string;
  readonly port: number;
  readonly mode: AuditTlsMode;
  /** SNI and the name the certificate must match; default `host` unless it is an IP literal. */
  readonly servername?: string | undefined;
  /** EHLO name we announce; default "postern-audit.invalid". */
  readonly ehloName?: string | undefined;
  /** Milliseconds per connect / reply / handshake; default 10000. */
  readonly timeout?: number | undefined;
}

/** Protocol versions in the order reports show them. */
export const PROTOCOLS = ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** Weak classes a cipher suite can belong to. */
export type CipherWeakness =
  | 'NULL'
  | 'anon'
  | 'EXPORT'
  | 'DES'
  | 'RC4'
  | '3DES'
  | 'IDEA'
  | 'RC2'
  | 'MD5'
  | 'CBC'
  | 'static-RSA'
  | 'static-DH';

export interface CipherSuiteInfo {
  /** IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" (SSLv2 kinds: "SSL_CK_RC4_128_WITH_MD5"). */
  readonly name: string;
  /** OpenSSL's name when it has one, e.g. "ECDHE-RSA-AES128-GCM-SHA256". */
  readonly openssl?: string | undefined;
  /** Two-byte code as 4 hex digits ("c02f"); SSLv2 kinds have 6 hex digits. */
  readonly code: string;
  /** Key exchange: "ECDHE", "DHE", "RSA", "DH", "ECDH", "PSK", "any" (TLS 1.3), … */
  readonly kx: string;
  /** Authentication: "RSA", "ECDSA", "DSS", "anon", "any" (TLS 1.3), … */
  readonly auth: string;
  /** Bulk cipher, e.g. "AES-128-GCM", "CHACHA20-POLY1305", "3DES-EDE-CBC", "NULL". */
  readonly encryption: string;
  /** Effective key bits of the bulk cipher (0 for NULL). */
  readonly bits: number;
  readonly mac: string;
  readonly aead: boolean;
  readonly forwardSecrecy: boolean;
  readonly weaknesses: readonly CipherWeakness[];
}

export interface TlsScanResult {
  /** true = accepted, false = refused; null = could not be tested (reason in `notes`). */
  readonly protocols: Readonly<Record<ProtocolName, boolean | null>>;
  /** Accepted suites per protocol, in the server's order of preference when it has one, else in our order. */
  readonly ciphers: Readonly<Record<ProtocolName, readonly CipherSuiteInfo[]>>;
  /** Per protocol: true = the server picks by its own order, false = by the client's, null = unknown / one suite. */
  readonly serverPreference: Readonly<Record<ProtocolName, boolean | null>>;
  /** Key-exchange groups the server accepts ("x25519", "secp256r1", "ffdhe2048", …), strongest first. */
  readonly groups: readonly string[];
  /** Finite-field DHE sizes seen in ServerKeyExchange (bits), when DHE suites are accepted. */
  readonly dhBits: readonly number[];
  /** RFC 5746: the server answers renegotiation_info. null = not testable (no TLS ≤ 1.2). */
  readonly secureRenegotiation: boolean | null;
  /** The server selected DEFLATE compression (CRIME). */
  readonly compression: boolean | null;
  /** RFC 7507: an inappropriate_fallback alert for a downgraded hello with TLS_FALLBACK_SCSV. null = not testable. */
  readonly fallbackScsv: boolean | null;
  /** Free-text notes on what could not be tested and why. */
  readonly notes: readonly string[];
  /** Number of TCP connections the scan made. */
  readonly connections: number;
}

export interface CertificateResult {
  /** Leaf first, as the server sent it. */
  readonly chain: readonly CertificateSummary[];
  /** The chain validates against the system roots (or --ca); the name is checked apart, in `nameMatches`. */
  readonly trusted: boolean;
  /** OpenSSL's verification error code when not trusted, e.g. "SELF_SIGNED_CERT_IN_CHAIN", "CERT_HAS_EXPIRED". */
  readonly verifyError?: string | undefined;
  /** The leaf covers the target name (checked on its own, whether or not the chain is trusted). */
  readonly nameMatches: boolean;
  /** Names checked: the target name, then MX names when auditing a domain. */
  readonly namesChecked: readonly string[];
  /** Names (of namesChecked) the certificate covers. */
  readonly namesMatched: readonly string[];
  readonly ocspStapled: boolean | null;
  /** A second connection resumed the session: by session ID (TLS ≤ 1.2) / by ticket. null = not tested. */
  readonly sessionIdResumption: boolean | null;
  readonly ticketResumption: boolean | null;
  /** The version and cipher Node negotiated for the certificate handshake. */
  readonly negotiated: { readonly version: string; readonly cipher: string };
  /** The leaf's key matches the given SPKI pin (--pin); absent when no pin was given. */
  readonly pinMatches?: boolean | undefined;
}

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly altNames: readonly string[];
  readonly validFrom: string;
  readonly validTo: string;
  readonly daysLeft: number;
  readonly selfSigned: boolean;
  readonly keyType: string;
  readonly keyBits?: number | undefined;
  readonly signatureAlgorithm: string;
  readonly fingerprintSha256: string;
  /** base64 SHA-256 of the SPKI: the value for `--pin sha256/…` and for DANE 3 1 1 (as hex there). */
  readonly spkiSha256: string;
  /** The DER certificate, base64; used by DANE matching. */
  readonly der: string;
}

export interface SmtpScanResult {
  readonly banner: string;
  /** EHLO keywords before TLS (STARTTLS targets) — upper-case keyword plus its parameters as sent. */
  readonly ehloBeforeTls: readonly string[] | null;
  readonly ehloAfterTls: readonly string[] | null;
  /** STARTTLS offered in the plaintext EHLO (null for implicit TLS). */
  readonly starttlsOffered: boolean | null;
  /** STARTTLS advertised again after TLS (a bug; RFC 3207 forbids it). */
  readonly starttlsAfterTls: boolean | null;
  readonly authBeforeTls: {
    /** Mechanisms advertised in the plaintext EHLO. */
    readonly offered: readonly string[];
    /** The server went on with AUTH PLAIN (334 or 235/535) before TLS instead of refusing (538/530/503/504). */
    readonly accepted: boolean | null;
    /** The reply to the plaintext AUTH attempt, one line. */
    readonly reply?: string | undefined;
  };
  readonly authAfterTls: readonly string[];
  /** Vulnerable = a command pipelined after STARTTLS in the same write was answered inside TLS. */
  readonly starttlsInjection: { readonly vulnerable: boolean | null; readonly evidence?: string | undefined };
  readonly vrfy: { readonly enabled: boolean | null; readonly reply?: string | undefined };
  readonly expn: { readonly enabled: boolean | null; readonly reply?: string | undefined };
  readonly size: number | null;
  readonly smtputf8: boolean;
  readonly requireTls: boolean;
  readonly chunking: boolean;
  readonly pipelining: boolean;
  /** Opt-in (--smuggling): one entry per tested ending. */
  readonly smuggling?: readonly SmugglingResult[] | undefined;
  /** Opt-in (--relay-test). */
  readonly relay?: readonly RelayResult[] | undefined;
  /**
   * With --relay-test: the class of the local address the relay test connected from. Servers commonly trust
   * loopback and private networks (Postfix mynetworks), so an accepted RCPT from there does not prove an
   * open relay. Absent when the relay test did not run or the address could not be read.
   */
  readonly relaySource?: 'loopback' | 'private' | 'public' | undefined;
  /** What could not be tested and why (a failed STARTTLS, a refused EHLO, an opt-in test that failed). */
  readonly notes?: readonly string[] | undefined;
}

export interface SmugglingResult {
  /** The ending as an escaped string, e.g. "\\n.\\n". */
  readonly ending: string;
  /** 'rejected': refused or not taken as end of data (safe); 'accepted': ended DATA and the smuggled transaction ran. */
  readonly outcome: 'rejected' | 'not-end-of-data' | 'accepted' | 'error';
  readonly evidence: string;
}

export interface RelayResult {
  readonly from: string;
  readonly to: string;
  /** The RCPT reply, one line; for an attempt not tested, "not tested: " and why. */
  readonly reply: string;
  /** true = RCPT got a 2xx, false = a 4xx/5xx (other than 421), null = not tested (no such RCPT reply). */
  readonly accepted: boolean | null;
}

export interface DnsPolicyResult {
  readonly domain: string;
  readonly mx: readonly { readonly preference: number; readonly exchange: string }[];
  readonly mtaSts: {
    readonly record: string | null;
    readonly id?: string | undefined;
    readonly policy: {
      readonly mode: 'enforce' | 'testing' | 'none';
      readonly mx: readonly string[];
      readonly maxAge: number;
    } | null;
    /** Each MX matched by a policy mx pattern. */
    readonly mxMatched: Readonly<Record<string, boolean>>;
    readonly errors: readonly string[];
  };
  readonly tlsRpt: {
    readonly record: string | null;
    readonly rua: readonly string[];
    readonly errors: readonly string[];
  };
  readonly dane: readonly DaneResult[];
  /** The MX answer was DNSSEC-validated (AD bit); DANE needs a secure MX RRset too (RFC 7672 §2.2.1). */
  readonly mxAuthenticated?: boolean | undefined;
  /** Problems with the MX lookup itself (failure, no MX, null MX). */
  readonly errors?: readonly string[] | undefined;
}

export interface DaneResult {
  readonly mx: string;
  readonly records: readonly {
    readonly usage: number;
    readonly selector: number;
    readonly matchingType: number;
    readonly data: string;
  }[];
  /** The records' answer was DNSSEC-validated (AD bit) — DANE is only meaningful then. */
  readonly authenticated: boolean;
  /** Some record matches the chain the MX presented; null = not checked (no connection / no records). */
  readonly matches: boolean | null;
  readonly errors: readonly string[];
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'ok';

export interface Finding {
  /** Stable id, e.g. "tls.protocol.tls10", "smtp.auth-before-tls" (docs/audit-grading.md lists them). */
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  readonly evidence: string;
  /** What to change; per server software where it differs. */
  readonly fix?:
    | {
        readonly summary: string;
        readonly postfix?: string | undefined;
        readonly exim?: string | undefined;
        readonly postern?: string | undefined;
      }
    | undefined;
  /** The highest grade the target can get while this finding stands. */
  readonly cap?: Grade | undefined;
}

export const GRADES = ['A+', 'A', 'A-', 'B', 'C', 'D', 'E', 'F'] as const;
export type Grade = (typeof GRADES)[number];
