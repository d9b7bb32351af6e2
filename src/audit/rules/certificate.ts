/**
 * Findings about the certificate. How much a bad certificate costs depends on who checks it: mail clients on a
 * submission port verify it, so a failure there is a failure (F); on port 25 senders only verify when DANE or
 * MTA-STS tells them to, so without either a bad certificate is a weakness (B), not an outage.
 */
import type { AuditTarget, CertificateSummary, DnsPolicyResult, Finding, Grade, Severity } from '../types.js';
import { finding, handshakeWorked, listText, type RuleContext, sameHost, type TargetRole } from './common.js';
import { FIXES } from './fixes.js';

const DAY_MS = 86_400_000;

/** How senders check this target's certificate (see CertificateTrustModel). */
export function certificateTrust(
  role: TargetRole,
  target: AuditTarget,
  dns: DnsPolicyResult | undefined,
): RuleContext['trust'] {
  if (role === 'submission') {
    return {
      model: 'verified',
      why: 'Mail clients verify the certificate of a submission server.',
      daneTa: false,
    };
  }
  const names = [target.servername, target.host].filter((n): n is string => typeof n === 'string');
  const dane = dns?.dane.find((d) => names.some((n) => sameHost(d.mx, n)));
  if (dane?.authenticated && dane.matches === true && dane.records.length > 0) {
    const daneTa = !dane.records.some((r) => r.usage === 3);
    return {
      model: 'dane',
      why: daneTa
        ? 'DNSSEC-signed DANE-TA records match: senders check the chain up to that anchor and the name, not the web PKI.'
        : 'DNSSEC-signed DANE-EE records match the key: senders check the key only, not the chain, names or dates (RFC 7672 §3.1.1).',
      daneTa,
    };
  }
  if (dns?.mtaSts.policy?.mode === 'enforce') {
    return {
      model: 'verified',
      why: 'The MTA-STS policy is in enforce mode: senders verify the chain and the name, and do not deliver otherwise.',
      daneTa: false,
    };
  }
  return {
    model: 'opportunistic',
    why: 'Port 25 without DANE or MTA-STS enforce: senders encrypt but do not verify the certificate (RFC 7435), so a bad certificate costs authentication, not delivery.',
    daneTa: false,
  };
}

type Aspect = 'chain' | 'name' | 'dates';

/** Severity and cap of a certificate problem under the target's trust model. */
function weigh(ctx: RuleContext, aspect: Aspect): { severity: Severity; cap?: Grade } {
  switch (ctx.trust.model) {
    case 'verified':
      return { severity: 'critical', cap: 'F' };
    case 'dane':
      // DANE-EE pins the key alone; DANE-TA still checks the name and the dates below its anchor.
      return ctx.trust.daneTa && aspect !== 'chain'
        ? { severity: 'critical', cap: 'F' }
        : { severity: 'info' };
    case 'opportunistic':
      return { severity: 'medium', cap: 'B' };
  }
}

function context(ctx: RuleContext): string {
  return ` ${ctx.trust.why}`;
}

function names(leaf: CertificateSummary): string {
  const dns = leaf.altNames.map((n) => n.replace(/^(DNS|IP):/, ''));
  return dns.length > 0 ? dns.join(', ') : `no subjectAltName (subject ${leaf.subject})`;
}

function keyFinding(leaf: CertificateSummary): Finding | undefined {
  const type = leaf.keyType.toLowerCase();
  const bits = leaf.keyBits;
  if (bits === undefined) return undefined;
  const rsa = type.startsWith('rsa') || type === 'dsa';
  if (rsa && bits < 2048) {
    return finding(
      'cert.key-weak',
      bits < 1024 ? 'critical' : 'high',
      `${leaf.keyType.toUpperCase()} key of ${bits} bits`,
      `The certificate key is ${leaf.keyType} ${bits} bits; 2048 is the minimum.`,
      { cap: bits < 1024 ? 'F' : 'C', fix: FIXES.rsaKey },
    );
  }
  if ((type === 'ec' || type === 'ecdsa') && bits < 224) {
    return finding(
      'cert.key-weak',
      'high',
      `EC key of ${bits} bits`,
      `The certificate key is EC ${bits} bits; P-256 is the minimum.`,
      { cap: 'C', fix: FIXES.rsaKey },
    );
  }
  return undefined;
}

function signatureFindings(ctx: RuleContext, chain: readonly CertificateSummary[]): Finding[] {
  // A root's self-signature is never checked; a DANE-EE key is pinned regardless of any signature.
  const checked = chain.filter((c, i) => i === 0 || !c.selfSigned);
  const pinnedOnly = ctx.trust.model === 'dane' && !ctx.trust.daneTa;
  const out: Finding[] = [];
  for (const [hash, id, severity, cap] of [
    ['md5', 'cert.signature-md5', 'critical', 'F'],
    ['sha1', 'cert.signature-sha1', 'high', 'C'],
  ] as const) {
    const weak = checked.filter((c) =>
      c.signatureAlgorithm
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')
        .includes(hash),
    );
    if (weak.length === 0) continue;
    out.push(
      finding(
        id,
        pinnedOnly ? 'info' : severity,
        `Certificate signed with ${hash.toUpperCase()}`,
        weak.map((c) => `${c.subject}: ${c.signatureAlgorithm}`).join('; ') +
          (pinnedOnly ? context(ctx) : ''),
        { cap: pinnedOnly ? undefined : cap, fix: FIXES.signature },
      ),
    );
  }
  return out;
}

/** Every certificate finding for the target. */
export function certificateFindings(ctx: RuleContext): Finding[] {
  const cert = ctx.certificate;
  const leaf = cert?.chain[0];
  if (!cert || !leaf) {
    // With no handshake at all, tls.no-handshake says it; without STARTTLS there is no certificate to check.
    if (!ctx.tlsExpected || !handshakeWorked(ctx)) return [];
    return [
      finding(
        'cert.incomplete',
        'medium',
        'The certificate check did not complete',
        `A TLS handshake worked, but ${cert ? 'the server sent no certificate' : 'the certificate check failed (see the errors)'}: the grade does not cover the certificate (trust, names, dates, key).`,
        { cap: 'A-' },
      ),
    ];
  }
  const out: Finding[] = [];
  const verifyError = cert.verifyError ?? '';
  // A validated chain can still carry an extra expired cross-sign that clients skip: then only the leaf counts.
  // Roots are never checked for dates by the path a client builds either.
  const dated = cert.trusted ? [leaf] : cert.chain.filter((c, i) => i === 0 || !c.selfSigned);
  const expired = dated.filter((c) => c.daysLeft < 0);
  const notYet = dated.filter((c) => Date.parse(c.validFrom) > ctx.now.getTime());
  const selfSigned = leaf.selfSigned || verifyError === 'DEPTH_ZERO_SELF_SIGNED_CERT';

  if (expired.length > 0 || verifyError === 'CERT_HAS_EXPIRED') {
    const which = expired.length > 0 ? expired : [leaf];
    const w = weigh(ctx, 'dates');
    out.push(
      finding(
        'cert.expired',
        w.severity,
        'The certificate has expired',
        which.map((c) => `${c.subject} expired on ${c.validTo}`).join('; ') + '.' + context(ctx),
        { cap: w.cap, fix: FIXES.renewal },
      ),
    );
  }
  if (notYet.length > 0 || verifyError === 'CERT_NOT_YET_VALID') {
    const which = notYet.length > 0 ? notYet : [leaf];
    const w = weigh(ctx, 'dates');
    out.push(
      finding(
        'cert.not-yet-valid',
        w.severity,
        'The certificate is not valid yet',
        which.map((c) => `${c.subject} is valid from ${c.validFrom}`).join('; ') +
          ' (check the server clock too).' +
          context(ctx),
        { cap: w.cap, fix: FIXES.certificate },
      ),
    );
  }
  if (selfSigned) {
    const w = weigh(ctx, 'chain');
    out.push(
      finding(
        'cert.self-signed',
        w.severity,
        'The certificate is self-signed',
        `${leaf.subject} is issued by itself.${context(ctx)}`,
        { cap: w.cap, fix: FIXES.certificate },
      ),
    );
  } else if (
    !cert.trusted &&
    expired.length === 0 &&
    notYet.length === 0 &&
    !/EXPIRED|NOT_YET/.test(verifyError)
  ) {
    const w = weigh(ctx, 'chain');
    out.push(
      finding(
        'cert.untrusted',
        w.severity,
        'The certificate chain is not trusted',
        `Verification failed with ${verifyError || 'an unknown error'} (issuer: ${leaf.issuer}).${context(ctx)}`,
        { cap: w.cap, fix: FIXES.certificate },
      ),
    );
  }
  if (!cert.nameMatches) {
    const w = weigh(ctx, 'name');
    const checked = cert.namesChecked[0] ?? ctx.target.servername ?? ctx.target.host;
    out.push(
      finding(
        'cert.name-mismatch',
        w.severity,
        `The certificate does not cover ${checked}`,
        `Checked ${checked}; the certificate names ${names(leaf)}.${context(ctx)}`,
        { cap: w.cap, fix: FIXES.certificate },
      ),
    );
  }
  if (leaf.daysLeft >= 0 && leaf.daysLeft < 30) {
    out.push(
      finding(
        'cert.expiring',
        'low',
        `The certificate expires in ${leaf.daysLeft} day${leaf.daysLeft === 1 ? '' : 's'}`,
        `Valid until ${leaf.validTo}.`,
        { fix: FIXES.renewal },
      ),
    );
  }
  const key = keyFinding(leaf);
  if (key) out.push(key);
  out.push(...signatureFindings(ctx, cert.chain));
  if (cert.pinMatches === false) {
    out.push(
      finding(
        'cert.pin-mismatch',
        'critical',
        'The certificate key does not match the given pin',
        `The leaf key is sha256/${leaf.spkiSha256}.`,
        { cap: 'F' },
      ),
    );
  }
  const problems = out.filter((f) => f.severity !== 'info' && f.severity !== 'ok').length;
  if (problems === 0) {
    const matched = cert.namesMatched.length > 0 ? listText(cert.namesMatched) : names(leaf);
    const lifetime = Math.round((Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / DAY_MS);
    out.push(
      finding(
        'cert.ok',
        'ok',
        'The certificate is valid',
        `${cert.trusted ? 'Trusted chain' : 'Authenticated by DANE'}, covers ${matched}, ${leaf.daysLeft} days left` +
          (Number.isFinite(lifetime) ? ` of ${lifetime}` : '') +
          `, ${leaf.keyType.toUpperCase()}${leaf.keyBits ? ` ${leaf.keyBits}` : ''}.`,
      ),
    );
  }
  if (cert.pinMatches === true) {
    out.push(finding('cert.pin', 'ok', 'The certificate key matches the pin', `sha256/${leaf.spkiSha256}`));
  }
  if (cert.ocspStapled === false) {
    out.push(
      finding(
        'cert.ocsp.not-stapled',
        'info',
        'No OCSP response is stapled',
        'The server sent no OCSP response to a status_request.',
        { fix: FIXES.ocsp },
      ),
    );
  }
  return out;
}
