/**
 * `postern audit --domain example.com`: the domain's MX hosts on port 25 (and with `submission` their 587 and
 * 465), each audited like a single port, plus the domain's DNS policy (MX, MTA-STS, TLS-RPT, DANE — DANE matched
 * against the chain each MX presented). Host names resolve through the same DNS server as the policy.
 */
import { DnsClient } from '../net/index.js';
import { mapLimit } from './connect.js';
import { checkDnsPolicy, hostAddress, type PolicyEndpoint, resolveMtaStsEndpoint } from './dns/index.js';
import type { MozillaProfileName } from './profiles.js';
import { type AuditReport, buildReport } from './report.js';
import { auditPort, type PortAudit } from './run.js';
import { type DnsPolicyResult, GRADES, type Grade } from './types.js';

export const AUDIT_DOMAIN_SCHEMA = 'https://postern.dev/schemas/audit-domain-report/1';

export interface DomainAuditOptions {
  readonly domain: string;
  /** Also audit 587 (STARTTLS) and 465 (implicit TLS) on each MX host. */
  readonly submission?: boolean | undefined;
  /** DNS server "host:port"; default the system's. */
  readonly resolver?: string | undefined;
  readonly mtaStsCa?: Buffer | undefined;
  readonly mtaStsConnect?: ((host: string) => PolicyEndpoint | Promise<PolicyEndpoint>) | undefined;
  /** The HTTPS port of the MTA-STS policy host (its address from the resolver); default 443. */
  readonly mtaStsPort?: number | undefined;
  /** CA certificates trusted for the MX certificates instead of the system roots. */
  readonly ca?: Buffer | undefined;
  /** Ports instead of 25 / 587 / 465, for tests on loopback. */
  readonly ports?:
    | { readonly mx?: number; readonly submission?: number; readonly smtps?: number }
    | undefined;
  /** At most this many MX hosts are audited (lowest preference first); default 5. */
  readonly maxHosts?: number | undefined;
  readonly timeout?: number | undefined;
  readonly concurrency?: number | undefined;
  readonly profile?: MozillaProfileName | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface DomainAuditReport {
  readonly schema: typeof AUDIT_DOMAIN_SCHEMA;
  readonly version: 1;
  readonly domain: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly dns: DnsPolicyResult;
  /** One report per audited host and port (each also carries `dns`). */
  readonly reports: readonly AuditReport[];
  /** MX hosts that could not be audited at all, and why. */
  readonly unreachable: readonly { readonly host: string; readonly port: number; readonly error: string }[];
  /** The worst grade of the reports (F when no MX could be audited). */
  readonly grade: Grade;
}

interface Planned {
  readonly mx: string;
  readonly port: number;
  readonly mode: 'starttls' | 'implicit';
}

/** Codes of a TCP connection that could not be opened at all (src/net/connect.ts). */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ECONNECT_TIMEOUT', 'ECONNECTION']);

/**
 * Why nothing of a port could be audited, when no connection to it opened. The mode is forced here, so
 * auditPort skips the detection that would have thrown; without this a closed 587 would be graded F.
 */
function connectFailure(result: PortAudit): string | undefined {
  if (result.smtp || result.certificate || result.errors.length === 0) return undefined;
  return result.errors.every((e) => CONNECT_FAILURES.has(e.code)) ? result.errors[0]?.message : undefined;
}

/**
 * Audits a mail domain.
 *
 * @example const report = await auditDomain({ domain: 'example.com', submission: true });
 */
export async function auditDomain(o: DomainAuditOptions): Promise<DomainAuditReport> {
  const started = Date.now();
  const domain = o.domain.toLowerCase().replace(/\.$/, '');
  const dns = new DnsClient({ resolver: o.resolver, timeout: o.timeout, signal: o.signal });
  const mxLookup = await dns.lookup(domain, 'MX', o.signal).catch(() => undefined);
  const mxHosts = [
    ...new Set(
      (mxLookup?.records ?? [])
        .slice()
        .sort((a, b) => a.preference - b.preference)
        .map((r) => r.exchange.toLowerCase().replace(/\.$/, ''))
        .filter((e) => e !== ''),
    ),
  ].slice(0, o.maxHosts ?? 5);
  const plan: Planned[] = mxHosts.flatMap((mx) => [
    { mx, port: o.ports?.mx ?? 25, mode: 'starttls' as const },
    ...(o.submission
      ? [
          { mx, port: o.ports?.submission ?? 587, mode: 'starttls' as const },
          { mx, port: o.ports?.smtps ?? 465, mode: 'implicit' as const },
        ]
      : []),
  ]);
  const unreachable: { host: string; port: number; error: string }[] = [];
  const audits = await mapLimit(plan, 2, async (p): Promise<[Planned, PortAudit] | undefined> => {
    try {
      const address = await hostAddress(dns, p.mx, 'an MX host must have an A or AAAA record', o.signal);
      const result = await auditPort({
        host: address,
        port: p.port,
        mode: p.mode,
        servername: p.mx,
        names: mxHosts,
        ca: o.ca,
        timeout: o.timeout,
        concurrency: o.concurrency,
        signal: o.signal,
      });
      const failure = connectFailure(result);
      if (failure === undefined) return [p, result];
      unreachable.push({ host: p.mx, port: p.port, error: failure });
      return undefined;
    } catch (err) {
      unreachable.push({ host: p.mx, port: p.port, error: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  });
  const chains: Record<string, Buffer[]> = {};
  for (const entry of audits) {
    if (!entry) continue;
    const [p, result] = entry;
    if (p.port === (o.ports?.mx ?? 25) && result.certificate && !chains[p.mx]) {
      chains[p.mx] = result.certificate.chain.map((c) => Buffer.from(c.der, 'base64'));
    }
  }
  const policy = await checkDnsPolicy(domain, {
    resolver: o.resolver,
    mtaStsCa: o.mtaStsCa,
    mtaStsConnect:
      o.mtaStsConnect ??
      (o.mtaStsPort === undefined
        ? undefined
        : () => resolveMtaStsEndpoint(domain, { client: dns, port: o.mtaStsPort, signal: o.signal })),
    chains,
    signal: o.signal,
  });
  const reports = audits
    .filter((a): a is [Planned, PortAudit] => a !== undefined)
    .map(([p, result]) =>
      buildReport({
        ...result,
        role: p.port === (o.ports?.mx ?? 25) ? 'mx' : 'submission',
        dns: policy,
        profile: o.profile,
      }),
    );
  const grade = reports.reduce<Grade>(
    (worst, r) => (GRADES.indexOf(r.grade.grade) > GRADES.indexOf(worst) ? r.grade.grade : worst),
    reports.length === 0 ? 'F' : 'A+',
  );
  return {
    schema: AUDIT_DOMAIN_SCHEMA,
    version: 1,
    domain,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    dns: policy,
    reports,
    unreachable,
    grade,
  };
}
