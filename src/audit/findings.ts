/**
 * Turns the probe results of one target into findings: each with a stable id, a severity, the evidence, a
 * concrete fix and, where it limits the grade, a cap. The rules live in rules/ by area; docs/audit-grading.md
 * lists every id.
 */
import { isIpLiteral } from '../tls/index.js';
import { certificateFindings, certificateTrust } from './rules/certificate.js';
import type { RuleContext, TargetRole } from './rules/common.js';
import { dnsFindings } from './rules/dns.js';
import { smtpFindings } from './rules/smtp.js';
import { tlsFindings } from './rules/tls.js';
import type {
  AuditTarget,
  CertificateResult,
  DnsPolicyResult,
  Finding,
  Severity,
  SmtpScanResult,
  TlsScanResult,
} from './types.js';

export type { CertificateTrustModel, TargetRole } from './rules/common.js';

/** Most severe first; the order of the report's findings and of the text and HTML sections. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info', 'ok'];

export interface FindingInput {
  readonly target: AuditTarget;
  /** Default: 'mx' on port 25, else 'submission'. */
  readonly role?: TargetRole | undefined;
  readonly tls: TlsScanResult | null;
  readonly certificate: CertificateResult | null;
  readonly smtp: SmtpScanResult | null;
  readonly dns?: DnsPolicyResult | null | undefined;
  /** The moment "not yet valid" is judged against; default now. */
  readonly now?: Date | undefined;
}

/**
 * The role a port plays when nobody says: 25 is where servers deliver to an MX; everything else (587, 465 and
 * test ports) is treated as submission, where clients authenticate — the stricter reading.
 */
export function roleOfPort(port: number): TargetRole {
  return port === 25 ? 'mx' : 'submission';
}

/** The name the certificate must match: the servername, else the host unless it is an IP literal. */
export function expectedServername(target: AuditTarget): string | null {
  if (target.servername) return target.servername;
  return isIpLiteral(target.host) ? null : target.host;
}

/**
 * Every finding for one target, most severe first (ties keep rule order).
 *
 * @example deriveFindings({ target, tls, certificate, smtp }).filter((f) => f.cap === 'F')
 */
export function deriveFindings(input: FindingInput): Finding[] {
  const role = input.role ?? roleOfPort(input.target.port);
  const dns = input.dns ?? undefined;
  const ctx: RuleContext = {
    target: input.target,
    role,
    tls: input.tls,
    certificate: input.certificate,
    smtp: input.smtp,
    dns,
    now: input.now ?? new Date(),
    // Without STARTTLS there is no TLS to judge: that finding alone says it all.
    tlsExpected: input.target.mode === 'implicit' || input.smtp?.starttlsOffered !== false,
    trust: certificateTrust(role, input.target, dns),
  };
  const findings = [
    ...smtpFindings(ctx),
    ...tlsFindings(ctx),
    ...certificateFindings(ctx),
    ...dnsFindings(ctx),
  ];
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITIES.indexOf(a.f.severity) - SEVERITIES.indexOf(b.f.severity) || a.i - b.i)
    .map(({ f }) => f);
}
