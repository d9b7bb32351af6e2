/**
 * Findings about the SMTP dialogue around TLS: STARTTLS itself, AUTH before TLS, command injection across the
 * TLS boundary, address probing, and the opt-in smuggling and relay tests.
 */
import type { Finding, RelayResult, SmtpScanResult } from '../types.js';
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
  if (smtp.relay) out.push(...relayFindings(smtp, smtp.relay));
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

function relayFindings(smtp: SmtpScanResult, relay: readonly RelayResult[]): Finding[] {
  const out: Finding[] = [];
  const relayed = relay.filter((r) => r.accepted === true);
  const refused = relay.filter((r) => r.accepted === false);
  // null: the attempt ended before the server answered RCPT, which is no refusal.
  const untested = relay.filter((r) => r.accepted === null);
  // Servers trust their own network by design: an accepted RCPT from there proves no open relay.
  const source = smtp.relaySource;
  const trusted = source === 'loopback' || source === 'private';
  if (relayed.length > 0) {
    const attempts = relayed.map((r) => `MAIL FROM:<${r.from}> RCPT TO:<${r.to}> → "${r.reply}"`).join('; ');
    out.push(
      trusted
        ? finding(
            'smtp.open-relay',
            'medium',
            `Relays for outside domains when asked from a ${source} address`,
            `${attempts}. The test ran from a ${source} address, and most servers trust their local network (Postfix mynetworks, Exim relay_from_hosts): run the relay test from an outside host to see whether this is an open relay.`,
            { fix: FIXES.relay },
          )
        : finding(
            'smtp.open-relay',
            'critical',
            'Open relay: mail for outside domains is accepted without authentication',
            attempts,
            { cap: 'F', fix: FIXES.relay },
          ),
    );
  } else if (relay.length > 0 && refused.length === relay.length) {
    out.push(
      finding(
        'smtp.open-relay.ok',
        'ok',
        'Not an open relay',
        `All ${relay.length} relay attempts were refused (no DATA was sent).`,
      ),
    );
  }
  if (relay.length === 0 || untested.length > 0) {
    out.push(
      finding(
        'smtp.open-relay.untested',
        'info',
        relay.length === 0 ? 'The relay test could not run' : 'Some relay attempts could not be tested',
        relay.length === 0
          ? 'No relay attempt got as far as RCPT (see the notes).'
          : untested.map((r) => `MAIL FROM:<${r.from}> RCPT TO:<${r.to}>: ${r.reply}`).join('; '),
      ),
    );
  }
  return out;
}

/** The SMTP checks that could have failed the target but have no verdict. */
function untestedChecks(ctx: RuleContext, smtp: SmtpScanResult): string[] {
  if (ctx.target.mode !== 'starttls') return [];
  const out: string[] = [];
  if (smtp.starttlsOffered === null) out.push('whether STARTTLS is offered');
  const auth = smtp.authBeforeTls;
  if (auth.offered.length === 0 && auth.accepted === null) {
    out.push(`AUTH before TLS${auth.reply ? ` (${auth.reply})` : ''}`);
  }
  if (smtp.starttlsOffered === true && smtp.starttlsInjection.vulnerable === null) {
    const why = smtp.starttlsInjection.evidence;
    out.push(`STARTTLS command injection${why ? ` (${why})` : ''}`);
  }
  return out;
}

function incompleteFindings(ctx: RuleContext): Finding[] {
  const smtp = ctx.smtp;
  const untested = smtp
    ? untestedChecks(ctx, smtp)
    : [
        ctx.target.mode === 'starttls'
          ? 'STARTTLS, AUTH before TLS, STARTTLS command injection and VRFY/EXPN'
          : 'the EHLO after TLS and VRFY/EXPN',
      ];
  if (untested.length === 0) return [];
  const them = smtp && untested.length === 1 ? 'it' : 'them';
  return [
    finding(
      'smtp.incomplete',
      'medium',
      smtp ? 'Some SMTP checks did not complete' : 'The SMTP checks did not run',
      smtp
        ? `No verdict for ${listText(untested)}: the grade does not cover ${them}.`
        : `The SMTP probe failed (see the errors), so ${untested[0]} went unchecked: the grade does not cover them.`,
      { cap: 'A-' },
    ),
  ];
}

/** Every SMTP finding for the target. */
export function smtpFindings(ctx: RuleContext): Finding[] {
  return [
    ...starttlsFindings(ctx),
    ...probingFindings(ctx),
    ...activeTestFindings(ctx),
    ...incompleteFindings(ctx),
  ];
}
