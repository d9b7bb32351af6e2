/**
 * One audit of one SMTP port: find out what it speaks, then run the TLS scan, the certificate check and the SMTP
 * checks side by side (each opens its own connections), and hand back the raw results for findings and grading.
 */
import { isPosternError, type PosternError } from '../core/index.js';
import { checkCertificate } from './certificate.js';
import { DEFAULT_AUDIT_TIMEOUT } from './connect.js';
import { detectMode } from './detect.js';
import { type SmtpScanOptions, scanSmtp } from './smtp/index.js';
import { scanTls } from './tls/index.js';
import type { AuditTarget, AuditTlsMode, CertificateResult, SmtpScanResult, TlsScanResult } from './types.js';

export interface AuditPortOptions {
  readonly host: string;
  readonly port: number;
  /** Forced mode; default: detected (implicit TLS or STARTTLS). */
  readonly mode?: AuditTlsMode | undefined;
  readonly servername?: string | undefined;
  /** CA certificates (PEM) trusted instead of the system roots. */
  readonly ca?: Buffer | undefined;
  /** Extra names the certificate should cover (the MX names of a domain). */
  readonly names?: readonly string[] | undefined;
  readonly pin?: string | undefined;
  /** Milliseconds per step; default 10000. */
  readonly timeout?: number | undefined;
  /** Parallel connections of the TLS scan; default 8. */
  readonly concurrency?: number | undefined;
  readonly smuggling?: SmtpScanOptions['smuggling'];
  readonly relayTest?: SmtpScanOptions['relayTest'];
  readonly signal?: AbortSignal | undefined;
}

/** A probe that could not run says why instead of failing the whole audit. */
export interface ProbeError {
  readonly probe: 'tls' | 'certificate' | 'smtp';
  readonly code: string;
  readonly message: string;
}

export interface PortAudit {
  readonly target: AuditTarget;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly tls: TlsScanResult | null;
  readonly certificate: CertificateResult | null;
  readonly smtp: SmtpScanResult | null;
  readonly errors: readonly ProbeError[];
}

function probeError(probe: ProbeError['probe'], err: unknown): ProbeError {
  const e = err as PosternError;
  return {
    probe,
    code: isPosternError(err) ? e.code : 'EUNKNOWN',
    message: err instanceof Error ? err.message : String(err),
  };
}

/**
 * Audits host:port. Throws only when the port cannot be reached or speaks neither SMTP nor TLS; a probe that
 * fails later is reported in `errors` with the rest of the results intact.
 *
 * @example const result = await auditPort({ host: '127.0.0.1', port: 587, ca: readFileSync('ca.pem') });
 */
export async function auditPort(o: AuditPortOptions): Promise<PortAudit> {
  const started = Date.now();
  const timeout = o.timeout ?? DEFAULT_AUDIT_TIMEOUT;
  const mode = o.mode ?? (await detectMode(o.host, o.port, timeout)).mode;
  const target: AuditTarget = {
    host: o.host,
    port: o.port,
    mode,
    servername: o.servername,
    timeout,
  };
  const errors: ProbeError[] = [];
  // SMTP first when STARTTLS: a server without STARTTLS has no TLS to scan.
  const smtpRun = scanSmtp(target, {
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.smuggling ? { smuggling: o.smuggling } : {}),
    ...(o.relayTest ? { relayTest: o.relayTest } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  }).catch((err: unknown) => {
    errors.push(probeError('smtp', err));
    return null;
  });
  const tlsRun = scanTls(target, { concurrency: o.concurrency ?? 8, signal: o.signal }).catch(
    (err: unknown) => {
      errors.push(probeError('tls', err));
      return null;
    },
  );
  const certRun = checkCertificate(target, {
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.names ? { names: [...o.names] } : {}),
    ...(o.pin ? { pin: o.pin } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  }).catch((err: unknown) => {
    errors.push(probeError('certificate', err));
    return null;
  });
  const [smtp, tls, certificate] = await Promise.all([smtpRun, tlsRun, certRun]);
  return {
    target,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    tls,
    certificate,
    smtp,
    errors,
  };
}
