/**
 * Findings about the SMTP dialogue around TLS: STARTTLS itself, AUTH before TLS, command injection across the
 * TLS boundary, address probing, and the opt-in smuggling and relay tests.
 */
import type { Finding } from '../types.js';
import { finding, listText, type RuleContext } from './common.js';
import { FIXES } from './fixes.js';

function starttlsFindings(ctx: RuleContext): Finding[] {
  const smtp = ctx.smtp;
  if (!smtp || ctx.target.mode !== 'starttls') return [];
  const out: Finding[] = [];
  if (smtp.starttlsOffered === false) {
    out.push(
      finding(
        'smtp.starttls.missing',
        'critical',
        'STARTTLS is not offered',
        `The EHLO reply has no STARTTLS${ctx.role === 'mx' ? ': every message to this MX travels in clear' : ': clients send passwords and mail in clear, or cannot connect'}. EHLO: ${(smtp.ehloBeforeTls ?? []).join(' ') || '(none)'}.`,
        { cap: 'F', fix: FIXES.starttls },
      ),
    );
  }
  const auth = smtp.authBeforeTls;
  if (auth.offered.length > 0 || auth.accepted === true) {
    const offered = auth.offered.length > 0 ? `AUTH ${auth.offered.join(' ')} is advertised before TLS` : '';
    const accepted =
      auth.accepted === true
        ? `a plaintext AUTH was answered with "${auth.reply ?? '?'}" instead of 538/530`
        : '';
    out.push(
      finding(
        'smtp.auth-before-tls',
        'critical',
        'AUTH is possible before TLS',
        `${[offered, accepted].filter(Boolean).join('; ')}: clients can send their password in clear.`,
        { cap: 'F', fix: FIXES.authTlsOnly },
      ),
    );
  } else if (smtp.authAfterTls.length > 0) {
    out.push(
      finding(
        'smtp.auth-tls-only',
        'ok',
        'AUTH only after TLS',
        `No AUTH in the plaintext EHLO${auth.reply ? ` (plaintext AUTH answered "${auth.reply}")` : ''}; after TLS: ${smtp.authAfterTls.join(' ')}.`,
      ),
    );
  }
  if (smtp.starttlsAfterTls === true) {
    out.push(
      finding(
        'smtp.starttls-after-tls',
        'low',
        'STARTTLS is advertised again inside TLS',
        'The EHLO reply after the handshake still lists STARTTLS (RFC 3207 §4.2 forbids it).',
        { fix: FIXES.starttlsAfterTls },
      ),
    );
  }
  const injection = smtp.starttlsInjection;
  if (injection.vulnerable === true) {
    out.push(
      finding(
        'smtp.starttls-injection',
        'critical',
        'STARTTLS command injection',
        `A command pipelined with STARTTLS in one plaintext write was answered inside TLS${injection.evidence ? `: ${injection.evidence}` : ''}. An attacker can inject commands into the encrypted session.`,
        { cap: 'F', fix: FIXES.injection },
      ),
    );
  } else if (injection.vulnerable === false) {
    out.push(
      finding(
        'smtp.starttls-injection.ok',
        'ok',
        'Not vulnerable to STARTTLS command injection',
        injection.evidence ?? 'Plaintext pipelined after STARTTLS was not executed inside TLS.',
      ),
    );
  }
  return out;
}

function probingFindings(ctx: RuleContext): Finding[] {
  const smtp = ctx.smtp;
  if (!smtp) return [];
  const out: Finding[] = [];
  for (const [key, id, verb] of [
    ['vrfy', 'smtp.vrfy', 'VRFY'],
    ['expn', 'smtp.expn', 'EXPN'],
  ] as const) {
    const result = smtp[key];
    if (result.enabled !== true) continue;
    out.push(
      finding(
        id,
        'low',
        `${verb} reveals addresses`,
        `${verb} was answered with "${result.reply ?? '2xx'}": anyone can test which addresses exist.`,
        { fix: FIXES.vrfy },
      ),
    );
  }
  return out;
}

function activeTestFindings(ctx: RuleContext): Finding[] {
  const smtp = ctx.smtp;
  if (!smtp) return [];
  const out: Finding[] = [];
  if (smtp.smuggling) {
    const accepted = smtp.smuggling.filter((s) => s.outcome === 'accepted');
    const errors = smtp.smuggling.filter((s) => s.outcome === 'error');
    if (accepted.length > 0) {
      out.push(
        finding(
          'smtp.smuggling',
          'critical',
          'SMTP smuggling: non-standard end-of-data sequences are accepted',
          `Accepted as end of data: ${accepted.map((s) => `"${s.ending}" (${s.evidence})`).join('; ')}. A sender can smuggle a second message with forged headers past SPF/DMARC checks.`,
          { cap: 'F', fix: FIXES.smuggling },
        ),
      );
    } else if (smtp.smuggling.length > errors.length) {
      out.push(
        finding(
          'smtp.smuggling.ok',
          'ok',
          'No SMTP smuggling',
          `None of ${smtp.smuggling.length - errors.length} tested endings ended the data early.`,
        ),
      );
    }
    if (errors.length > 0) {
      out.push(
        finding(
          'smtp.smuggling.untested',
          'info',
          'Some smuggling tests could not run',
          errors.map((s) => `"${s.ending}": ${s.evidence}`).join('; '),
        ),
      );
    }
  }
  if (smtp.relay) {
    const relayed = smtp.relay.filter((r) => r.accepted);
    if (relayed.length > 0) {
      out.push(
        finding(
          'smtp.open-relay',
          'critical',
          'Open relay: mail for outside domains is accepted without authentication',
          relayed.map((r) => `MAIL FROM:<${r.from}> RCPT TO:<${r.to}> → "${r.reply}"`).join('; '),
          { cap: 'F', fix: FIXES.relay },
        ),
      );
    } else if (smtp.relay.length > 0) {
      out.push(
        finding(
          'smtp.open-relay.ok',
          'ok',
          'Not an open relay',
          `All ${smtp.relay.length} relay attempts were refused at RCPT (no DATA was sent).`,
        ),
      );
    }
  }
  if (ctx.role === 'submission' && smtp.ehloAfterTls && smtp.authAfterTls.length === 0) {
    out.push(
      finding(
        'smtp.no-auth',
        'info',
        'No AUTH after TLS',
        `The EHLO reply inside TLS lists no AUTH mechanisms: ${listText(smtp.ehloAfterTls.slice(0, 8))}.`,
      ),
    );
  }
  return out;
}

/** Every SMTP finding for the target. */
export function smtpFindings(ctx: RuleContext): Finding[] {
  return [...starttlsFindings(ctx), ...probingFindings(ctx), ...activeTestFindings(ctx)];
}
