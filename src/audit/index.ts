/**
 * The audit's public surface: audit a port or a mail domain, build and render the report, diagnose a connection.
 *
 * @example
 * const report = buildReport(await auditPort({ host: 'smtp.example.com', port: 587 }));
 * console.log(report.grade.grade, renderText(report));
 */
export { type CertificateCheckOptions, checkCertificate } from './certificate.js';
export { type Detected, detectMode } from './detect.js';
export { checkDnsPolicy, type DnsPolicyOptions, daneMatches } from './dns/index.js';
export {
  type DoctorOptions,
  type DoctorReport,
  type DoctorStatus,
  type DoctorStep,
  type DoctorStepName,
  diagnose,
} from './doctor.js';
export {
  AUDIT_DOMAIN_SCHEMA,
  auditDomain,
  type DomainAuditOptions,
  type DomainAuditReport,
} from './domain.js';
export { type GradeResult, gradeFindings } from './grade.js';
export type { MozillaProfileName, ProfileCompliance } from './profiles.js';
export { renderDomainHtml, renderHtml } from './render-html.js';
export { renderDomainText, renderText, type TextOptions, type TextStyle } from './render-text.js';
export { AUDIT_REPORT_SCHEMA, type AuditReport, buildReport, type ReportParts } from './report.js';
export { type AuditPortOptions, auditPort, type PortAudit, type ProbeError } from './run.js';
export { scanSmtp } from './smtp/index.js';
export { scanTls } from './tls/index.js';
export type {
  AuditTarget,
  AuditTlsMode,
  CertificateResult,
  CertificateSummary,
  CipherSuiteInfo,
  DnsPolicyResult,
  Finding,
  Grade,
  ProtocolName,
  Severity,
  SmtpScanResult,
  TlsScanResult,
} from './types.js';
