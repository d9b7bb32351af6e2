/**
 * Findings about the TLS layer: protocol versions, cipher suites, key exchange and the protocol features
 * (renegotiation, compression, fallback SCSV). Caps follow SSL Labs' grading guide where it applies to mail,
 * see docs/audit-grading.md.
 */
import type { CipherWeakness, Finding, Grade, ProtocolName, Severity, TlsScanResult } from '../types.js';
import {
  acceptedSuites,
  type Fix,
  finding,
  handshakeWorked,
  listText,
  protocolsWhere,
  type RuleContext,
  suiteList,
} from './common.js';
import { FIXES } from './fixes.js';

interface WeakClass {
  readonly id: string;
  readonly severity: Severity;
  readonly cap?: Grade;
  readonly title: string;
  readonly fix: Fix;
  /** Milder severity and cap on an MX (see anon). */
  readonly mx?: { readonly severity: Severity; readonly cap: Grade };
}

// The order is the order findings appear in.
const WEAK_CLASSES: readonly (readonly [CipherWeakness, WeakClass])[] = [
  [
    'NULL',
    {
      id: 'tls.cipher.null',
      severity: 'critical',
      cap: 'F',
      title: 'NULL cipher suites: no encryption',
      fix: FIXES.weakCiphers,
    },
  ],
  [
    'EXPORT',
    {
      id: 'tls.cipher.export',
      severity: 'critical',
      cap: 'F',
      title: 'EXPORT cipher suites (40/56-bit keys, FREAK/Logjam)',
      fix: FIXES.weakCiphers,
    },
  ],
  [
    'DES',
    {
      id: 'tls.cipher.des',
      severity: 'critical',
      cap: 'F',
      title: 'Single-DES suites (56-bit keys)',
      fix: FIXES.weakCiphers,
    },
  ],
  [
    'RC2',
    {
      id: 'tls.cipher.rc2',
      severity: 'critical',
      cap: 'F',
      title: 'RC2 cipher suites',
      fix: FIXES.weakCiphers,
    },
  ],
  // Anonymous suites skip the certificate. SSL Labs fails them (F). On an MX without DANE or MTA-STS senders do
  // not verify certificates anyway, so an anonymous suite gives away nothing an active attacker lacks: C there.
  [
    'anon',
    {
      id: 'tls.cipher.anon',
      severity: 'critical',
      cap: 'F',
      title: 'Anonymous cipher suites (no server authentication)',
      fix: FIXES.anonCiphers,
      mx: { severity: 'high', cap: 'C' },
    },
  ],
  [
    'RC4',
    {
      id: 'tls.cipher.rc4',
      severity: 'high',
      cap: 'C',
      title: 'RC4 cipher suites (RFC 7465 forbids them)',
      fix: FIXES.weakCiphers,
    },
  ],
  [
    '3DES',
    {
      id: 'tls.cipher.3des',
      severity: 'high',
      cap: 'C',
      title: '3DES cipher suites (64-bit blocks, Sweet32)',
      fix: FIXES.weakCiphers,
    },
  ],
  [
    'IDEA',
    {
      id: 'tls.cipher.idea',
      severity: 'high',
      cap: 'C',
      title: 'IDEA cipher suites (64-bit blocks)',
      fix: FIXES.weakCiphers,
    },
  ],
  [
    'MD5',
    {
      id: 'tls.cipher.md5',
      severity: 'high',
      cap: 'C',
      title: 'Cipher suites with an MD5 MAC',
      fix: FIXES.weakCiphers,
    },
  ],
  [
    'CBC',
    {
      id: 'tls.cipher.cbc',
      severity: 'low',
      title: 'CBC-mode cipher suites (Lucky13-style padding oracles)',
      fix: FIXES.cbc,
    },
  ],
];

const PROTOCOL_FINDINGS: readonly (readonly [
  ProtocolName,
  { id: string; severity: Severity; cap: Grade; title: string },
])[] = [
  ['SSLv2', { id: 'tls.protocol.sslv2', severity: 'critical', cap: 'F', title: 'SSLv2 is offered (DROWN)' }],
  ['SSLv3', { id: 'tls.protocol.sslv3', severity: 'high', cap: 'C', title: 'SSLv3 is offered (POODLE)' }],
  ['TLSv1.0', { id: 'tls.protocol.tls10', severity: 'medium', cap: 'B', title: 'TLS 1.0 is offered' }],
  ['TLSv1.1', { id: 'tls.protocol.tls11', severity: 'medium', cap: 'B', title: 'TLS 1.1 is offered' }],
];

function protocolFindings(ctx: RuleContext): Finding[] {
  const tls = ctx.tls;
  if (!tls) return [];
  const out: Finding[] = [];
  for (const [protocol, rule] of PROTOCOL_FINDINGS) {
    if (tls.protocols[protocol] !== true) continue;
    const legacy = protocol === 'TLSv1.0' || protocol === 'TLSv1.1';
    out.push(
      finding(rule.id, rule.severity, rule.title, `The server completed a ${protocol} handshake.`, {
        cap: rule.cap,
        fix: legacy && ctx.role === 'mx' ? FIXES.legacyProtocolsMx : FIXES.legacyProtocols,
      }),
    );
  }
  const modern = tls.protocols['TLSv1.2'] === true || tls.protocols['TLSv1.3'] === true;
  const old = (['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1'] as const).filter((p) => tls.protocols[p] === true);
  // Only refusals prove the absence; an untested version is reported by tls.protocol.untested.
  const noModern = tls.protocols['TLSv1.2'] === false && tls.protocols['TLSv1.3'] === false;
  if (noModern && old.length > 0) {
    out.push(
      finding(
        'tls.protocol.no-tls12',
        'high',
        'Neither TLS 1.2 nor TLS 1.3 is offered',
        `Only ${listText(old)} completed a handshake.`,
        { cap: 'C', fix: FIXES.tls12 },
      ),
    );
  }
  if (tls.protocols['TLSv1.3'] === true) {
    out.push(
      finding('tls.protocol.tls13', 'ok', 'TLS 1.3 is offered', 'The server completed a TLSv1.3 handshake.'),
    );
  } else if (tls.protocols['TLSv1.3'] === false && (modern || old.length > 0)) {
    out.push(
      finding(
        'tls.protocol.no-tls13',
        'low',
        'TLS 1.3 is not offered',
        'A TLSv1.3 ClientHello was refused.',
        {
          fix: FIXES.tls13,
        },
      ),
    );
  }
  return out;
}

function cipherFindings(ctx: RuleContext): Finding[] {
  const all = acceptedSuites(ctx.tls);
  if (all.length === 0) return [];
  const out: Finding[] = [];
  for (const [weakness, rule] of WEAK_CLASSES) {
    const hits = all.filter(({ suite }) => suite.weaknesses.includes(weakness));
    if (hits.length === 0) continue;
    const { severity, cap } = ctx.role === 'mx' && rule.mx ? rule.mx : rule;
    out.push(finding(rule.id, severity, rule.title, `Accepted: ${suiteList(hits)}.`, { cap, fix: rule.fix }));
  }
  const nonFs = all.filter(({ suite }) => !suite.forwardSecrecy);
  if (nonFs.length === all.length) {
    out.push(
      finding(
        'tls.cipher.no-fs',
        'high',
        'No forward secrecy',
        `No accepted suite uses an ephemeral key exchange: ${suiteList(all)}.`,
        { cap: 'B', fix: FIXES.forwardSecrecy },
      ),
    );
  } else if (nonFs.length > 0) {
    out.push(
      finding(
        'tls.cipher.non-fs',
        'low',
        'Some suites have no forward secrecy (static RSA/DH key exchange)',
        `Accepted: ${suiteList(nonFs)}.`,
        { cap: 'A-', fix: FIXES.forwardSecrecy },
      ),
    );
  }
  if (!all.some(({ suite }) => suite.aead)) {
    out.push(
      finding(
        'tls.cipher.no-aead',
        'medium',
        'No AEAD cipher suite (AES-GCM, ChaCha20-Poly1305)',
        `Every accepted suite uses CBC or a stream cipher: ${suiteList(all)}.`,
        { cap: 'A-', fix: FIXES.cbc },
      ),
    );
  }
  if (all.every(({ suite }) => suite.forwardSecrecy && suite.aead)) {
    out.push(
      finding(
        'tls.cipher.strong',
        'ok',
        'Only forward-secret AEAD cipher suites',
        `All ${all.length} accepted suites use an ephemeral key exchange and authenticated encryption.`,
      ),
    );
  }
  out.push(...preferenceFindings(ctx));
  return out;
}

/** Client order only matters while weak suites are on offer (Mozilla lets the client choose among strong ones). */
function preferenceFindings(ctx: RuleContext): Finding[] {
  const tls = ctx.tls;
  if (!tls) return [];
  const affected = (['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2'] as const).filter((protocol) => {
    const suites = tls.ciphers[protocol] ?? [];
    return (
      tls.serverPreference[protocol] === false &&
      suites.length > 1 &&
      suites.some((s) => !(s.forwardSecrecy && s.aead))
    );
  });
  if (affected.length === 0) return [];
  return [
    finding(
      'tls.cipher.client-order',
      'low',
      'The client picks the suite while weaker suites are offered',
      `No server preference for ${listText(affected)}: a client that lists a weak suite first gets it.`,
      { fix: FIXES.serverPreference },
    ),
  ];
}

function keyExchangeFindings(ctx: RuleContext): Finding[] {
  const tls = ctx.tls;
  if (!tls || tls.dhBits.length === 0) return [];
  const smallest = Math.min(...tls.dhBits);
  if (smallest >= 2048) return [];
  return [
    finding(
      'tls.kx.dh-small',
      smallest < 1024 ? 'critical' : 'medium',
      `Diffie-Hellman parameters of ${smallest} bits${smallest < 1024 ? ' (Logjam)' : ''}`,
      `DHE key exchange used a ${smallest}-bit group (seen: ${[...new Set(tls.dhBits)].join(', ')} bits).`,
      { cap: smallest < 1024 ? 'F' : 'B', fix: FIXES.dhParams },
    ),
  ];
}

function featureFindings(ctx: RuleContext): Finding[] {
  const tls = ctx.tls;
  if (!tls) return [];
  const out: Finding[] = [];
  if (tls.secureRenegotiation === false) {
    out.push(
      finding(
        'tls.renegotiation.insecure',
        'medium',
        'No secure renegotiation (RFC 5746)',
        'The ServerHello carried no renegotiation_info extension.',
        { cap: 'A-', fix: FIXES.renegotiation },
      ),
    );
  }
  if (tls.compression === true) {
    out.push(
      finding(
        'tls.compression',
        'high',
        'TLS compression is on (CRIME)',
        'The server selected DEFLATE compression.',
        { cap: 'C', fix: FIXES.compression },
      ),
    );
  }
  if (tls.fallbackScsv === false) {
    out.push(
      finding(
        'tls.fallback-scsv.missing',
        'low',
        'No downgrade protection (TLS_FALLBACK_SCSV)',
        'A hello for a lower version with TLS_FALLBACK_SCSV was answered instead of refused with inappropriate_fallback.',
        { fix: FIXES.fallbackScsv },
      ),
    );
  }
  return out;
}

/** What to try when nothing could be tested: the other transport, named as the CLI flag that forces it. */
function otherTransport(ctx: RuleContext): string {
  return ctx.target.mode === 'implicit'
    ? ' The port may start in plaintext (like 25 and 587): then audit it with --starttls.'
    : ' Either the server stalls or refuses at EHLO or STARTTLS, or the port expects TLS from the first byte (like 465): then audit it with --tls.';
}

/** Why no handshake worked, from the verdicts the scan actually has: refused, or never tested. */
function noHandshakeEvidence(ctx: RuleContext): string {
  const tls = ctx.tls;
  if (!tls)
    return `The TLS scan and the certificate check both failed; see the errors.${otherTransport(ctx)}`;
  const refused = protocolsWhere(tls, false);
  const untested = protocolsWhere(tls, null);
  if (untested.length === 0)
    return 'The server refused every protocol version we offered (SSLv2 to TLS 1.3).';
  const tested =
    refused.length === 0
      ? 'No protocol version could be tested: no attempt got a usable answer'
      : `${listText(refused)} ${refused.length === 1 ? 'was' : 'were'} refused; ${listText(untested)} could not be tested: they got no usable answer`;
  return `${tested} (see the notes).${otherTransport(ctx)}`;
}

/** A handshake worked, but the scan has no verdicts to grade (it failed, or none of its versions answered). */
function scanIncomplete(ctx: RuleContext, tls: TlsScanResult | null): Finding | undefined {
  const negotiated = ctx.certificate
    ? ` (the certificate check negotiated ${ctx.certificate.negotiated.version})`
    : '';
  let evidence: string;
  if (!tls) {
    evidence = `A handshake worked${negotiated}, but the protocol and cipher scan failed (see the errors)`;
  } else if (protocolsWhere(tls, true).length === 0) {
    const untested = protocolsWhere(tls, null);
    evidence =
      untested.length === 6
        ? `A handshake worked${negotiated}, but the scan could test no protocol version (see the notes)`
        : `A handshake worked${negotiated}, but the scan saw no protocol version accepted${untested.length > 0 ? ` and could not test ${listText(untested)}` : ''} (see the notes)`;
  } else {
    return undefined;
  }
  return finding(
    'tls.scan-incomplete',
    'medium',
    'The protocol and cipher scan did not complete',
    `${evidence}: the grade does not cover protocols and ciphers.`,
    { cap: 'A-' },
  );
}

/** Some versions answered and some could not be tested: the grade assumes the untested ones are off. */
function untestedProtocols(tls: TlsScanResult): Finding | undefined {
  const untested = protocolsWhere(tls, null);
  if (untested.length === 0 || protocolsWhere(tls, true).length === 0) return undefined;
  // An untested legacy version might have capped the grade; an untested TLS 1.2 or 1.3 only costs the A+.
  const mightCap = untested.some((p) => p !== 'TLSv1.2' && p !== 'TLSv1.3');
  return finding(
    'tls.protocol.untested',
    mightCap ? 'medium' : 'low',
    `${listText(untested)} could not be tested`,
    `The probes for ${listText(untested)} got no usable answer (see the notes): the grade assumes ${untested.length === 1 ? 'it is' : 'they are'} not offered.`,
    mightCap ? { cap: 'A-' } : {},
  );
}

/** Every TLS finding for the target. */
export function tlsFindings(ctx: RuleContext): Finding[] {
  if (ctx.tlsExpected && !handshakeWorked(ctx)) {
    return [
      finding('tls.no-handshake', 'critical', 'No TLS handshake succeeded', noHandshakeEvidence(ctx), {
        cap: 'F',
        fix: FIXES.handshake,
      }),
    ];
  }
  const out = [
    ...protocolFindings(ctx),
    ...cipherFindings(ctx),
    ...keyExchangeFindings(ctx),
    ...featureFindings(ctx),
  ];
  if (ctx.tlsExpected) {
    const incomplete = scanIncomplete(ctx, ctx.tls);
    const untested = ctx.tls && !incomplete ? untestedProtocols(ctx.tls) : undefined;
    if (incomplete) out.push(incomplete);
    if (untested) out.push(untested);
  }
  return out;
}
