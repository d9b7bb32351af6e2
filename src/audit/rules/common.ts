/**
 * What every finding rule sees: the probe results of one target plus the facts derived once (its role, how
 * senders authenticate its certificate). Rules are pure functions of this context.
 */
import type {
  AuditTarget,
  CertificateResult,
  CipherSuiteInfo,
  DnsPolicyResult,
  Finding,
  Grade,
  ProtocolName,
  Severity,
  SmtpScanResult,
  TlsScanResult,
} from '../types.js';
import { PROTOCOLS } from '../types.js';

/**
 * What the port is for. 'mx' is port 25 between servers, where TLS is opportunistic unless DANE or MTA-STS say
 * otherwise; 'submission' is where mail clients log in (587, 465), and they verify the certificate.
 */
export type TargetRole = 'mx' | 'submission';

/**
 * How a sender checks the certificate of this target:
 * - 'verified': chain and name are checked (mail clients on submission ports, MTA-STS enforce on an MX);
 * - 'dane': DNSSEC-signed TLSA records that match pin the key, so the web PKI chain does not matter;
 * - 'opportunistic': port 25 without DANE or MTA-STS — senders encrypt but do not verify (RFC 7435).
 */
export type CertificateTrustModel = 'verified' | 'dane' | 'opportunistic';

export interface RuleContext {
  readonly target: AuditTarget;
  readonly role: TargetRole;
  readonly tls: TlsScanResult | null;
  readonly certificate: CertificateResult | null;
  readonly smtp: SmtpScanResult | null;
  readonly dns: DnsPolicyResult | undefined;
  readonly now: Date;
  /** TLS is expected: implicit TLS, or a STARTTLS port that offers STARTTLS (or where that is unknown). */
  readonly tlsExpected: boolean;
  readonly trust: { readonly model: CertificateTrustModel; readonly why: string; readonly daneTa: boolean };
}

export type Fix = NonNullable<Finding['fix']>;

/** Builds a finding; `cap` and `fix` are left out of the object when not given (the JSON stays small). */
export function finding(
  id: string,
  severity: Severity,
  title: string,
  evidence: string,
  extra: { readonly fix?: Fix | undefined; readonly cap?: Grade | undefined } = {},
): Finding {
  return {
    id,
    severity,
    title,
    evidence,
    ...(extra.fix ? { fix: extra.fix } : {}),
    ...(extra.cap ? { cap: extra.cap } : {}),
  };
}

/** Whether any TLS handshake with the target completed (the scan saw a version, or the certificate came). */
export function handshakeWorked(ctx: RuleContext): boolean {
  const anyProtocol = ctx.tls ? Object.values(ctx.tls.protocols).some((v) => v === true) : false;
  return anyProtocol || ctx.certificate !== null;
}

/** The protocol versions whose verdict is `value` (true = accepted, false = refused, null = not tested). */
export function protocolsWhere(tls: TlsScanResult, value: boolean | null): ProtocolName[] {
  return PROTOCOLS.filter((p) => tls.protocols[p] === value);
}

/** The suites the server accepted, per protocol, in report order. */
export function acceptedSuites(
  tls: TlsScanResult | null,
): { protocol: ProtocolName; suite: CipherSuiteInfo }[] {
  if (!tls) return [];
  return PROTOCOLS.flatMap((protocol) => (tls.ciphers[protocol] ?? []).map((suite) => ({ protocol, suite })));
}

/** "TLSv1.2: A, B; TLSv1.0: C" — at most `max` names, then how many more. */
export function suiteList(
  entries: readonly { protocol: ProtocolName; suite: CipherSuiteInfo }[],
  max = 6,
): string {
  const byProtocol = new Map<ProtocolName, string[]>();
  for (const { protocol, suite } of entries) {
    const names = byProtocol.get(protocol) ?? [];
    if (!names.includes(suite.name)) names.push(suite.name);
    byProtocol.set(protocol, names);
  }
  let shown = 0;
  let hidden = 0;
  const parts: string[] = [];
  for (const [protocol, names] of [...byProtocol].reverse()) {
    const room = Math.max(0, max - shown);
    const visible = names.slice(0, room);
    hidden += names.length - visible.length;
    shown += visible.length;
    if (visible.length > 0) parts.push(`${protocol}: ${visible.join(', ')}`);
  }
  return parts.join('; ') + (hidden > 0 ? ` (and ${hidden} more)` : '');
}

/** Host names compare without case and without a trailing dot. */
export function sameHost(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

/** "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
