/**
 * Findings about the domain's mail policy in DNS (with --domain): MX, MTA-STS, TLS-RPT and DANE. These decide
 * whether senders may verify the MX certificate at all — without MTA-STS enforce or DANE, port 25 TLS is only
 * opportunistic and an active attacker can strip it.
 */
import type { DaneResult, Finding } from '../types.js';
import { finding, listText, type RuleContext, sameHost } from './common.js';
import { FIXES, tlsaRecord } from './fixes.js';

const ONE_DAY = 86_400;

function daneValid(d: DaneResult): boolean {
  return d.authenticated && d.records.length > 0 && d.matches === true;
}

function mtaStsFindings(ctx: RuleContext, daneEverywhere: boolean): Finding[] {
  const dns = ctx.dns;
  if (!dns) return [];
  const sts = dns.mtaSts;
  const out: Finding[] = [];
  if (sts.record === null && sts.policy === null) {
    out.push(
      finding(
        'dns.mta-sts.missing',
        daneEverywhere ? 'info' : 'medium',
        'No MTA-STS policy',
        `No _mta-sts.${dns.domain} TXT record${daneEverywhere ? '; DANE already authenticates every MX' : ': senders cannot require authenticated TLS to your MX, so an active attacker can strip STARTTLS'}.${sts.errors.length > 0 ? ` (${sts.errors.join('; ')})` : ''}`,
        { fix: FIXES.mtaSts },
      ),
    );
    return out;
  }
  const policy = sts.policy;
  if (!policy || sts.errors.length > 0) {
    out.push(
      finding(
        'dns.mta-sts.invalid',
        'medium',
        'The MTA-STS policy is unusable',
        `${sts.record === null ? 'No _mta-sts TXT record, but a policy file' : `TXT "${sts.record}"`}; ${sts.errors.length > 0 ? sts.errors.join('; ') : 'no policy could be fetched'}. Senders treat a broken policy as none.`,
        { fix: FIXES.mtaSts },
      ),
    );
  }
  if (!policy) return out;
  const unmatched = Object.entries(sts.mxMatched)
    .filter(([, ok]) => !ok)
    .map(([mx]) => mx);
  if (policy.mode === 'enforce' && unmatched.length === 0 && sts.errors.length === 0) {
    out.push(
      finding(
        'dns.mta-sts.enforce',
        'ok',
        'MTA-STS policy in enforce mode',
        `mode: enforce, mx: ${policy.mx.join(', ')}, max_age: ${policy.maxAge}; covers every MX.`,
      ),
    );
  } else if (policy.mode === 'testing') {
    out.push(
      finding(
        'dns.mta-sts.testing',
        'low',
        'MTA-STS policy in testing mode',
        'Senders report failures (with TLS-RPT) but still deliver over unauthenticated or no TLS.',
        { fix: FIXES.mtaStsEnforce },
      ),
    );
  } else if (policy.mode === 'none') {
    out.push(
      finding(
        'dns.mta-sts.none',
        'low',
        'MTA-STS policy mode is "none"',
        'The policy is withdrawn: senders apply no MTA-STS checks.',
        { fix: FIXES.mtaStsEnforce },
      ),
    );
  }
  if (unmatched.length > 0) {
    const enforce = policy.mode === 'enforce';
    out.push(
      finding(
        'dns.mta-sts.mx-mismatch',
        enforce ? 'critical' : 'medium',
        'An MX host is not covered by the MTA-STS policy',
        `${listText(unmatched)} ${unmatched.length === 1 ? 'matches' : 'match'} none of the policy's mx patterns (${policy.mx.join(', ') || 'none'})${enforce ? ': MTA-STS senders refuse to deliver there' : ''}.`,
        { cap: enforce ? 'F' : undefined, fix: FIXES.mtaStsMx },
      ),
    );
  }
  if (policy.mode !== 'none' && policy.maxAge < ONE_DAY) {
    out.push(
      finding(
        'dns.mta-sts.max-age',
        'low',
        'MTA-STS max_age is under a day',
        `max_age: ${policy.maxAge} seconds; a short max_age leaves a first-contact downgrade window each time it lapses.`,
        { fix: FIXES.mtaStsMaxAge },
      ),
    );
  }
  return out;
}

function tlsRptFindings(ctx: RuleContext): Finding[] {
  const dns = ctx.dns;
  if (!dns) return [];
  const rpt = dns.tlsRpt;
  if (rpt.record === null) {
    return [
      finding(
        'dns.tls-rpt.missing',
        'low',
        'No TLS-RPT record',
        `No _smtp._tls.${dns.domain} TXT record: you never hear about failed TLS deliveries.`,
        { fix: FIXES.tlsRpt },
      ),
    ];
  }
  if (rpt.errors.length > 0 || rpt.rua.length === 0) {
    return [
      finding(
        'dns.tls-rpt.invalid',
        'low',
        'The TLS-RPT record is unusable',
        `TXT "${rpt.record}": ${rpt.errors.length > 0 ? rpt.errors.join('; ') : 'no rua address'}.`,
        { fix: FIXES.tlsRpt },
      ),
    ];
  }
  return [finding('dns.tls-rpt.ok', 'ok', 'TLS-RPT reports are requested', `rua: ${rpt.rua.join(', ')}`)];
}

function daneFindings(ctx: RuleContext): Finding[] {
  const dns = ctx.dns;
  if (!dns) return [];
  const out: Finding[] = [];
  const leaf = ctx.certificate?.chain[0];
  const byState = (pred: (d: DaneResult) => boolean) => dns.dane.filter(pred);
  const absent = byState((d) => d.records.length === 0);
  const unauthenticated = byState((d) => d.records.length > 0 && !d.authenticated);
  const mismatched = byState((d) => d.authenticated && d.records.length > 0 && d.matches === false);
  const valid = byState(daneValid);
  const unusable = byState(
    (d) => d.records.length > 0 && d.records.every((r) => r.usage === 0 || r.usage === 1),
  );
  const withErrors = byState((d) => d.errors.length > 0);
  const tlsaFor = (mx: string): string | undefined => {
    const here =
      leaf && [ctx.target.servername, ctx.target.host].some((n) => n !== undefined && sameHost(n, mx));
    return here ? tlsaRecord(mx, 25, leaf.spkiSha256) : undefined;
  };
  const withRecord = (base: { summary: string }, mxs: readonly DaneResult[]) => {
    const records = mxs.map((d) => tlsaFor(d.mx)).filter((r): r is string => r !== undefined);
    return records.length > 0
      ? { ...base, summary: `${base.summary} For this server: ${records.join('; ')}` }
      : base;
  };
  if (mismatched.length > 0) {
    out.push(
      finding(
        'dns.dane.mismatch',
        'critical',
        'DANE TLSA records do not match the certificate',
        `${listText(mismatched.map((d) => d.mx))}: no TLSA record matches the presented chain. DANE-validating senders (Postfix, Exim, Microsoft 365, …) defer all mail.`,
        { cap: 'F', fix: withRecord(FIXES.daneMismatch, mismatched) },
      ),
    );
  }
  if (unauthenticated.length > 0) {
    out.push(
      finding(
        'dns.dane.unauthenticated',
        'medium',
        'TLSA records without DNSSEC',
        `${listText(unauthenticated.map((d) => d.mx))}: the TLSA answer was not DNSSEC-validated (no AD bit), so senders ignore it.`,
        { fix: FIXES.dnssec },
      ),
    );
  }
  if (unusable.length > 0) {
    out.push(
      finding(
        'dns.dane.unusable-usage',
        'low',
        'TLSA records with usage 0 or 1 only',
        `${listText(unusable.map((d) => d.mx))}: PKIX-TA/PKIX-EE records are not used for SMTP.`,
        { fix: FIXES.daneUsage },
      ),
    );
  }
  if (absent.length > 0) {
    out.push(
      finding(
        'dns.dane.absent',
        'info',
        'No DANE TLSA records',
        `${listText(absent.map((d) => d.mx))}: no _25._tcp TLSA record.`,
        { fix: withRecord(FIXES.dane, absent) },
      ),
    );
  }
  if (withErrors.length > 0) {
    out.push(
      finding(
        'dns.dane.error',
        'low',
        'DANE lookups had errors',
        withErrors.map((d) => `${d.mx}: ${d.errors.join('; ')}`).join(' / '),
      ),
    );
  }
  if (valid.length > 0) {
    out.push(
      finding(
        'dns.dane.valid',
        'ok',
        'DANE authenticates the MX',
        `${listText(valid.map((d) => d.mx))}: DNSSEC-signed TLSA records match the presented certificate.`,
      ),
    );
  }
  return out;
}

/** Every DNS policy finding for the domain; none without --domain. */
export function dnsFindings(ctx: RuleContext): Finding[] {
  const dns = ctx.dns;
  if (!dns) return [];
  const out: Finding[] = [];
  if (dns.mx.length === 0) {
    out.push(
      finding(
        'dns.mx.missing',
        'medium',
        'No MX records',
        `${dns.domain} has no MX records: senders fall back to its A/AAAA record (RFC 5321 §5.1).`,
      ),
    );
  }
  const daneEverywhere = dns.dane.length > 0 && dns.dane.every(daneValid);
  out.push(...mtaStsFindings(ctx, daneEverywhere), ...tlsRptFindings(ctx), ...daneFindings(ctx));
  return out;
}
