/**
 * The audit report: everything one audit of one target found, as the JSON document `postern audit --json`
 * prints (docs/audit-report.schema.json) and the text and HTML renderers read. `buildReport` assembles it from
 * the probe results, deriving findings, grade and (with --profile) Mozilla profile compliance.
 */
import { deriveFindings, expectedServername, roleOfPort, type TargetRole } from './findings.js';
import { type GradeResult, gradeFindings } from './grade.js';
import { checkProfile, type MozillaProfileName, type ProfileCompliance } from './profiles.js';
import {
  type AuditTarget,
  type AuditTlsMode,
  type CertificateResult,
  type CipherSuiteInfo,
  type DnsPolicyResult,
  type Finding,
  PROTOCOLS,
  type ProtocolName,
  type SmtpScanResult,
  type TlsScanResult,
} from './types.js';

/** The `schema` value of every version-1 report; a breaking change gets a new number here and in `version`. */
export const AUDIT_REPORT_SCHEMA = 'https://postern.dev/schemas/audit-report/1';
export const AUDIT_REPORT_VERSION = 1;

export interface TlsFeatures {
  readonly secureRenegotiation: boolean | null;
  readonly compression: boolean | null;
  readonly fallbackScsv: boolean | null;
  readonly sessionIdResumption: boolean | null;
  readonly ticketResumption: boolean | null;
  readonly ocspStapling: boolean | null;
}

/** A probe that could not run, and why; the rest of the report stands. */
export interface ReportProbeError {
  readonly probe: string;
  readonly code: string;
  readonly message: string;
}

export interface AuditReport {
  readonly schema: typeof AUDIT_REPORT_SCHEMA;
  readonly version: typeof AUDIT_REPORT_VERSION;
  readonly target: {
    readonly host: string;
    readonly port: number;
    readonly mode: AuditTlsMode;
    /** SNI and the name the certificate must match; null for an IP literal without --servername. */
    readonly servername: string | null;
    /** How the port was graded: 'mx' (port 25, opportunistic TLS) or 'submission' (clients verify). */
    readonly role: TargetRole;
  };
  /** ISO 8601. */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Protocol → accepted (true), refused (false) or not testable (null). */
  readonly protocols: Readonly<Record<ProtocolName, boolean | null>>;
  /** Protocol → IANA names of the accepted suites, in the server's order when it has one. */
  readonly ciphers: Readonly<Record<ProtocolName, readonly string[]>>;
  readonly cipherDetails: Readonly<Record<ProtocolName, readonly CipherSuiteInfo[]>>;
  readonly serverPreference: Readonly<Record<ProtocolName, boolean | null>>;
  /** Key-exchange groups the server accepts, strongest first. */
  readonly groups: readonly string[];
  /** Finite-field DHE sizes (bits) seen. */
  readonly dhBits: readonly number[];
  readonly tlsFeatures: TlsFeatures;
  readonly certificate: CertificateResult | null;
  readonly smtp: SmtpScanResult | null;
  /** With --domain: the domain's MX, MTA-STS, TLS-RPT and DANE. */
  readonly dns?: DnsPolicyResult;
  /** Most severe first. */
  readonly findings: readonly Finding[];
  readonly grade: GradeResult;
  /** With --profile. */
  readonly profile?: ProfileCompliance;
  /** What the scan could not test, and why. */
  readonly notes: readonly string[];
  readonly errors: readonly ReportProbeError[];
}

/** What buildReport needs: the probe results of one target (auditPort's result fits) plus options. */
export interface ReportParts {
  readonly target: AuditTarget;
  /** Default: 'mx' on port 25, else 'submission'. */
  readonly role?: TargetRole | undefined;
  readonly startedAt: string | Date;
  readonly durationMs: number;
  readonly tls: TlsScanResult | null;
  readonly certificate: CertificateResult | null;
  readonly smtp: SmtpScanResult | null;
  readonly dns?: DnsPolicyResult | null | undefined;
  readonly errors?: readonly ReportProbeError[] | undefined;
  readonly profile?: MozillaProfileName | undefined;
}

function perProtocol<T>(value: (p: ProtocolName) => T): Record<ProtocolName, T> {
  return Object.fromEntries(PROTOCOLS.map((p) => [p, value(p)])) as Record<ProtocolName, T>;
}

/**
 * Assembles the report of one target: findings, grade and optional profile compliance from the probe results.
 *
 * @example const report = buildReport({ ...(await auditPort({ host, port })), profile: 'intermediate' });
 */
export function buildReport(parts: ReportParts): AuditReport {
  const started = typeof parts.startedAt === 'string' ? new Date(parts.startedAt) : parts.startedAt;
  const role = parts.role ?? roleOfPort(parts.target.port);
  const { tls, certificate, smtp } = parts;
  const dns = parts.dns ?? undefined;
  const findings = deriveFindings({ target: parts.target, role, tls, certificate, smtp, dns, now: started });
  return {
    schema: AUDIT_REPORT_SCHEMA,
    version: AUDIT_REPORT_VERSION,
    target: {
      host: parts.target.host,
      port: parts.target.port,
      mode: parts.target.mode,
      servername: expectedServername(parts.target),
      role,
    },
    startedAt: started.toISOString(),
    durationMs: Math.max(0, Math.round(parts.durationMs)),
    protocols: perProtocol((p) => tls?.protocols[p] ?? null),
    ciphers: perProtocol((p) => (tls?.ciphers[p] ?? []).map((c) => c.name)),
    cipherDetails: perProtocol((p) => tls?.ciphers[p] ?? []),
    serverPreference: perProtocol((p) => tls?.serverPreference[p] ?? null),
    groups: tls?.groups ?? [],
    dhBits: tls?.dhBits ?? [],
    tlsFeatures: {
      secureRenegotiation: tls?.secureRenegotiation ?? null,
      compression: tls?.compression ?? null,
      fallbackScsv: tls?.fallbackScsv ?? null,
      sessionIdResumption: certificate?.sessionIdResumption ?? null,
      ticketResumption: certificate?.ticketResumption ?? null,
      ocspStapling: certificate?.ocspStapled ?? null,
    },
    certificate,
    smtp,
    ...(dns ? { dns } : {}),
    findings,
    grade: gradeFindings(findings, { domain: dns !== undefined }),
    ...(parts.profile ? { profile: checkProfile(parts.profile, { tls, certificate }) } : {}),
    notes: tls?.notes ?? [],
    errors: parts.errors ?? [],
  };
}
