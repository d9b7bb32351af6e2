/**
 * The sections of the HTML audit report, each a function of one report: findings with fixes, transport,
 * protocols, TLS features, ciphers, key exchange, certificate, SMTP, DNS policy, profile and grade. Every value
 * from the report passes through escapeHtml; markup is only ever written here, by the renderer itself.
 */
import { SEVERITIES } from './findings.js';
import type { AuditReport } from './report.js';
import {
  type CipherSuiteInfo,
  type DnsPolicyResult,
  type Finding,
  type Grade,
  PROTOCOLS,
  type Severity,
} from './types.js';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

const e = escapeHtml;

/** The badge colour class of each grade (a fixed map, so no report text reaches a class attribute). */
export const GRADE_CLASS: Readonly<Record<Grade, string>> = {
  'A+': 'g-a',
  A: 'g-a',
  'A-': 'g-am',
  B: 'g-b',
  C: 'g-c',
  D: 'g-d',
  E: 'g-d',
  F: 'g-f',
};

export function pill(text: string, tone: 'ok' | 'warn' | 'bad' | 'dim' | 'info'): string {
  return `<span class="pill p-${tone}">${e(text)}</span>`;
}

function yesNo(
  value: boolean | null | undefined,
  good: boolean,
  labels: [string, string] = ['yes', 'no'],
): string {
  if (value === null || value === undefined) return pill('not tested', 'dim');
  return pill(value ? labels[0] : labels[1], value === good ? 'ok' : 'warn');
}

function kv(rows: readonly (readonly [string, string] | undefined)[]): string {
  const body = rows
    .filter((r): r is readonly [string, string] => r !== undefined)
    .map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td>${v}</td></tr>`)
    .join('');
  return `<table class="kv">${body}</table>`;
}

function section(at: string, id: string, title: string, body: string): string {
  return `<section id="${at}${id}"><h2>${e(title)}</h2>${body}</section>`;
}

export function hostPort(r: AuditReport): string {
  const t = r.target;
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return t.servername && t.servername !== t.host
    ? `${t.servername}:${t.port} (${host})`
    : `${host}:${t.port}`;
}

/** "2025-06-01 12:00 UTC" for an ISO time; other text as it is. */
export function when(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Counts of findings per severity, as pills. */
export function severityCounts(findings: readonly Finding[]): string {
  return SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `<li class="n-${s}"><b>${n}</b> ${e(s)}</li>`)
    .join('');
}

function fixBlock(f: Finding): string {
  if (!f.fix) return '';
  const rows = (
    [
      ['Postfix', f.fix.postfix],
      ['Exim', f.fix.exim],
      ['Postern', f.fix.postern],
    ] as const
  )
    .filter(([, v]) => v)
    .map(([k, v]) => `<dt>${k}</dt><dd><pre>${e(v)}</pre></dd>`)
    .join('');
  return `<div class="fix"><p class="summary"><strong>Fix:</strong> ${e(f.fix.summary)}</p>${rows ? `<dl>${rows}</dl>` : ''}</div>`;
}

function findingCard(f: Finding): string {
  return `<div class="finding s-${f.severity}"><div class="head"><span class="sev sev-${f.severity}">${e(f.severity)}</span>
<span class="title">${e(f.title)}</span>${f.cap ? `<span class="cap">caps at ${e(f.cap)}</span>` : ''}<span class="id mono">${e(f.id)}</span></div>
<p>${e(f.evidence)}</p>${fixBlock(f)}</div>`;
}

function findings(r: AuditReport, at: string): string {
  const problems = SEVERITIES.filter((s) => s !== 'ok').flatMap((s: Severity) =>
    r.findings.filter((f) => f.severity === s),
  );
  const ok = r.findings.filter((f) => f.severity === 'ok');
  const body =
    (problems.length > 0 ? problems.map(findingCard).join('') : `<p>${pill('No problems found', 'ok')}</p>`) +
    (ok.length > 0
      ? `<h3>Passed</h3><ul class="oks">${ok.map((f) => `<li><strong>${e(f.title)}</strong> <span class="muted">— ${e(f.evidence)}</span></li>`).join('')}</ul>`
      : '');
  return section(at, 'findings', 'Findings', body);
}

function transport(r: AuditReport, at: string): string {
  const m = r.smtp;
  return section(
    at,
    'transport',
    'Transport',
    kv([
      ['Target', e(hostPort(r))],
      ['Mode', e(r.target.mode === 'starttls' ? 'STARTTLS (plaintext greeting, then TLS)' : 'Implicit TLS')],
      [
        'Certificate name',
        r.target.servername ? e(r.target.servername) : '<span class="muted">none (IP address)</span>',
      ],
      [
        'Graded as',
        e(
          r.target.role === 'mx'
            ? 'MX — port 25, opportunistic TLS unless DANE or MTA-STS'
            : 'Submission — clients verify the certificate',
        ),
      ],
      m ? ['Banner', `<code>${e(m.banner)}</code>`] : undefined,
      m?.ehloBeforeTls ? ['EHLO before TLS', `<code>${e(m.ehloBeforeTls.join(' · '))}</code>`] : undefined,
      m?.ehloAfterTls ? ['EHLO after TLS', `<code>${e(m.ehloAfterTls.join(' · '))}</code>`] : undefined,
      r.certificate
        ? [
            'Negotiated',
            `<code>${e(r.certificate.negotiated.version)} ${e(r.certificate.negotiated.cipher)}</code>`,
          ]
        : undefined,
    ]),
  );
}

function protocolsAndFeatures(r: AuditReport, at: string): string {
  const rows = PROTOCOLS.map((p) => {
    const v = r.protocols[p];
    let status: string;
    if (v === null) status = pill('not tested', 'dim');
    else if (p === 'TLSv1.2' || p === 'TLSv1.3')
      status = v ? pill('offered', 'ok') : pill('not offered', 'warn');
    else if (p === 'SSLv2' || p === 'SSLv3')
      status = v ? pill('offered — insecure', 'bad') : pill('not offered', 'ok');
    else status = v ? pill('offered — deprecated', 'warn') : pill('not offered', 'ok');
    return [p, status] as const;
  });
  const f = r.tlsFeatures;
  const features = kv([
    ['Secure renegotiation', yesNo(f.secureRenegotiation, true)],
    ['Compression', yesNo(f.compression, false)],
    ['Fallback SCSV', yesNo(f.fallbackScsv, true)],
    ['Session ID resumption', yesNo(f.sessionIdResumption, true)],
    ['Session tickets', yesNo(f.ticketResumption, true)],
    ['OCSP stapling', yesNo(f.ocspStapling, true)],
  ]);
  return `<div class="grid">${section(at, 'protocols', 'Protocols', kv(rows))}${section(at, 'features', 'TLS features', features)}</div>`;
}

function keyExchange(r: AuditReport, at: string): string {
  const kx = kv([
    ['Groups', r.groups.length > 0 ? `<code>${e(r.groups.join(', '))}</code>` : pill('none found', 'dim')],
    r.dhBits.length > 0
      ? [
          'DHE parameters',
          pill(`${[...new Set(r.dhBits)].join(', ')} bits`, Math.min(...r.dhBits) < 2048 ? 'warn' : 'ok'),
        ]
      : undefined,
  ]);
  return section(at, 'kx', 'Key exchange', kx);
}

function marks(s: CipherSuiteInfo): string {
  const tags = [
    s.forwardSecrecy ? pill('FS', 'ok') : pill('no FS', 'warn'),
    s.aead ? pill('AEAD', 'ok') : '',
  ];
  for (const w of s.weaknesses) {
    if (w === 'static-RSA' || w === 'static-DH') continue;
    tags.push(pill(w, w === 'CBC' ? 'warn' : 'bad'));
  }
  return `<span class="tags">${tags.join('')}</span>`;
}

function ciphers(r: AuditReport, at: string): string {
  const offered = PROTOCOLS.filter((p) => r.cipherDetails[p].length > 0).reverse();
  if (offered.length === 0) {
    return section(
      at,
      'ciphers',
      'Ciphers',
      '<p class="muted">No cipher suites were accepted (or none could be tested).</p>',
    );
  }
  const tables = offered.map((p) => {
    const pref = r.serverPreference[p];
    const order = pref === true ? 'server order' : pref === false ? 'client order' : 'order unknown';
    const rows = r.cipherDetails[p]
      .map(
        (s) =>
          `<tr><td class="suite">${e(s.name).replace(/_/g, '_<wbr>')}${s.openssl ? `<br><span class="muted">${e(s.openssl)}</span>` : ''}</td><td>${e(s.kx)}</td><td>${e(s.auth)}</td><td>${e(s.encryption)}</td><td>${e(s.bits)}</td><td>${marks(s)}</td></tr>`,
      )
      .join('');
    return `<h3>${e(p)} <span class="muted">· ${r.cipherDetails[p].length} suites · ${e(order)}</span></h3>
<table class="suites"><thead><tr><th>Suite</th><th>Kx</th><th>Auth</th><th>Cipher</th><th>Bits</th><th>Marks</th></tr></thead><tbody>${rows}</tbody></table>`;
  });
  return section(at, 'ciphers', 'Ciphers', tables.join(''));
}

function certificate(r: AuditReport, at: string): string {
  const cert = r.certificate;
  const leaf = cert?.chain[0];
  if (!cert || !leaf)
    return section(at, 'certificate', 'Certificate', '<p class="muted">No certificate was retrieved.</p>');
  const days =
    leaf.daysLeft < 0
      ? pill(`expired ${-leaf.daysLeft} days ago`, 'bad')
      : pill(`${leaf.daysLeft} days left`, leaf.daysLeft < 30 ? 'warn' : 'ok');
  const table = kv([
    ['Subject', e(leaf.subject)],
    ['Names', e(leaf.altNames.join(', ') || '(no subjectAltName)')],
    ['Issuer', e(leaf.issuer)],
    ['Valid', `${e(when(leaf.validFrom))} → ${e(when(leaf.validTo))} ${days}`],
    ['Key', e(`${leaf.keyType.toUpperCase()}${leaf.keyBits ? ` ${leaf.keyBits} bits` : ''}`)],
    ['Signature', e(leaf.signatureAlgorithm)],
    [
      'Trusted',
      cert.trusted ? pill('yes', 'ok') : pill(`no — ${cert.verifyError ?? 'unknown error'}`, 'bad'),
    ],
    [
      'Name matches',
      cert.nameMatches
        ? pill(`yes — ${cert.namesMatched.join(', ')}`, 'ok')
        : pill(`no — checked ${cert.namesChecked.join(', ')}`, 'bad'),
    ],
    ['Self-signed', leaf.selfSigned ? pill('yes', 'warn') : pill('no', 'ok')],
    ['SHA-256', `<code>${e(leaf.fingerprintSha256)}</code>`],
    ['SPKI pin', `<code>sha256/${e(leaf.spkiSha256)}</code>`],
  ]);
  const chain =
    cert.chain.length > 1
      ? `<h3>Chain</h3><table><thead><tr><th>#</th><th>Subject</th><th>Issuer</th><th>Valid to</th><th>Key</th></tr></thead><tbody>${cert.chain
          .map(
            (c, i) =>
              `<tr><td>${i + 1}</td><td>${e(c.subject)}</td><td>${e(c.issuer)}</td><td>${e(when(c.validTo))}</td><td>${e(`${c.keyType.toUpperCase()} ${c.keyBits ?? ''}`)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  return section(at, 'certificate', 'Certificate', table + chain);
}

function smtp(r: AuditReport, at: string): string {
  const m = r.smtp;
  if (!m) return section(at, 'smtp', 'SMTP', '<p class="muted">The SMTP checks did not run.</p>');
  const a = m.authBeforeTls;
  const starttls =
    r.target.mode === 'starttls'
      ? ([
          ['STARTTLS offered', yesNo(m.starttlsOffered, true)],
          [
            'AUTH before TLS',
            (a.offered.length > 0
              ? pill(`offered: ${a.offered.join(' ')}`, 'bad')
              : pill('not offered', 'ok')) +
              (a.accepted === true
                ? ` ${pill('accepted', 'bad')}`
                : a.accepted === false
                  ? ` ${pill('refused', 'ok')}`
                  : '') +
              (a.reply ? ` <code>${e(a.reply)}</code>` : ''),
          ],
          ['STARTTLS after TLS', yesNo(m.starttlsAfterTls, false)],
          [
            'STARTTLS injection',
            yesNo(m.starttlsInjection.vulnerable, false, ['vulnerable', 'not vulnerable']) +
              (m.starttlsInjection.evidence
                ? ` <span class="muted">${e(m.starttlsInjection.evidence)}</span>`
                : ''),
          ],
        ] as const)
      : [];
  const ext = (on: boolean) => (on ? pill('yes', 'ok') : pill('no', 'dim'));
  const table = kv([
    ...starttls,
    [
      'AUTH after TLS',
      m.authAfterTls.length > 0 ? `<code>${e(m.authAfterTls.join(' '))}</code>` : pill('none', 'dim'),
    ],
    [
      'VRFY',
      yesNo(m.vrfy.enabled, false, ['enabled', 'disabled']) +
        (m.vrfy.reply ? ` <code>${e(m.vrfy.reply)}</code>` : ''),
    ],
    [
      'EXPN',
      yesNo(m.expn.enabled, false, ['enabled', 'disabled']) +
        (m.expn.reply ? ` <code>${e(m.expn.reply)}</code>` : ''),
    ],
    ['SIZE', m.size === null ? pill('not advertised', 'dim') : e(`${m.size.toLocaleString('en')} bytes`)],
    ['PIPELINING', ext(m.pipelining)],
    ['CHUNKING', ext(m.chunking)],
    ['SMTPUTF8', ext(m.smtputf8)],
    ['REQUIRETLS', ext(m.requireTls)],
  ]);
  const smuggling = m.smuggling
    ? `<h3>SMTP smuggling</h3><table><thead><tr><th>Ending</th><th>Outcome</th><th>Evidence</th></tr></thead><tbody>${m.smuggling
        .map(
          (s) =>
            `<tr><td><code>${e(s.ending)}</code></td><td>${pill(s.outcome, s.outcome === 'accepted' ? 'bad' : s.outcome === 'error' ? 'dim' : 'ok')}</td><td>${e(s.evidence)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const relay = m.relay
    ? `<h3>Relay test${m.relaySource ? ` <small>(from a ${e(m.relaySource)} address)</small>` : ''}</h3><table><thead><tr><th>MAIL FROM</th><th>RCPT TO</th><th>Result</th><th>Reply</th></tr></thead><tbody>${m.relay
        .map(
          (t) =>
            `<tr><td><code>${e(t.from)}</code></td><td><code>${e(t.to)}</code></td><td>${t.accepted === null ? pill('not tested', 'dim') : t.accepted ? pill('accepted', 'bad') : pill('refused', 'ok')}</td><td><code>${e(t.reply)}</code></td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return section(at, 'smtp', 'SMTP', table + smuggling + relay);
}

/** The domain's DNS mail policy (shown once per page). */
export function dnsPolicy(d: DnsPolicyResult | undefined, at: string): string {
  if (!d) return '';
  const sts = d.mtaSts;
  const table = kv([
    ['Domain', e(d.domain)],
    [
      'MX',
      d.mx.length > 0 ? e(d.mx.map((m) => `${m.preference} ${m.exchange}`).join(', ')) : pill('none', 'warn'),
    ],
    ['MTA-STS record', sts.record ? `<code>${e(sts.record)}</code>` : pill('none', 'warn')],
    sts.policy
      ? [
          'MTA-STS policy',
          `${pill(`mode: ${sts.policy.mode}`, sts.policy.mode === 'enforce' ? 'ok' : 'warn')} <code>mx: ${e(sts.policy.mx.join(', '))}</code> <code>max_age: ${e(sts.policy.maxAge)}</code>`,
        ]
      : undefined,
    sts.errors.length > 0 ? ['MTA-STS errors', e(sts.errors.join('; '))] : undefined,
    ['TLS-RPT', d.tlsRpt.record ? `<code>${e(d.tlsRpt.record)}</code>` : pill('none', 'warn')],
  ]);
  const dane =
    d.dane.length > 0
      ? `<h3>DANE</h3><table><thead><tr><th>MX</th><th>TLSA records</th><th>DNSSEC</th><th>Matches</th></tr></thead><tbody>${d.dane
          .map(
            (x) =>
              `<tr><td>${e(x.mx)}</td><td>${x.records.length > 0 ? x.records.map((t) => `<code>${e(`${t.usage} ${t.selector} ${t.matchingType} ${t.data}`)}</code>`).join('<br>') : '<span class="muted">none</span>'}</td><td>${x.records.length > 0 ? yesNo(x.authenticated, true) : ''}</td><td>${x.records.length > 0 ? yesNo(x.matches, true) : ''}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  return section(at, 'dns', 'DNS policy', table + dane);
}

function profile(r: AuditReport, at: string): string {
  const p = r.profile;
  if (!p) return '';
  const rows = p.deviations
    .map(
      (d) =>
        `<tr><td>${pill(d.level, d.level === 'required' ? 'warn' : 'dim')}</td><td>${e(d.category)}</td><td>${e(d.message)}</td></tr>`,
    )
    .join('');
  const verdict = p.compliant ? pill('compliant', 'ok') : pill('not compliant', 'warn');
  return section(
    at,
    'profile',
    `Mozilla profile: ${p.profile}`,
    `<p>${verdict} <span class="muted">Mozilla server-side TLS guidelines ${e(p.guidelines)}</span></p>${
      rows
        ? `<table><thead><tr><th>Level</th><th>Area</th><th>Deviation</th></tr></thead><tbody>${rows}</tbody></table>`
        : ''
    }`,
  );
}

function problems(r: AuditReport, at: string): string {
  if (r.errors.length === 0 && r.notes.length === 0) return '';
  const items = [
    ...r.errors.map(
      (x) => `<li><strong>${e(x.probe)}</strong>: ${e(x.message)} <code>${e(x.code)}</code></li>`,
    ),
    ...r.notes.map((n) => `<li>${e(n)}</li>`),
  ];
  return section(at, 'untested', 'Not tested', `<ul>${items.join('')}</ul>`);
}

function gradeSection(r: AuditReport, at: string): string {
  const g = r.grade;
  const caps =
    g.capReasons.length > 0
      ? `<table><thead><tr><th>Cap</th><th>Finding</th><th>Id</th></tr></thead><tbody>${g.capReasons
          .map(
            (c) =>
              `<tr><td><strong>${e(c.cap)}</strong></td><td>${e(c.title)}</td><td><code>${e(c.id)}</code></td></tr>`,
          )
          .join('')}</tbody></table>`
      : '<p>No finding caps the grade.</p>';
  const plus =
    g.missingForAPlus.length > 0 ? `<p><strong>For A+:</strong> ${e(g.missingForAPlus.join('; '))}.</p>` : '';
  return section(at, 'grade', `Grade ${g.grade}`, caps + plus);
}

/** Every section of one report; ids start with `at` so several reports can share a page. */
export function reportSections(r: AuditReport, at: string, options: { readonly dns: boolean }): string {
  return [
    findings(r, at),
    transport(r, at),
    protocolsAndFeatures(r, at),
    ciphers(r, at),
    keyExchange(r, at),
    certificate(r, at),
    smtp(r, at),
    options.dns ? dnsPolicy(r.dns, at) : '',
    profile(r, at),
    problems(r, at),
    gradeSection(r, at),
  ]
    .filter(Boolean)
    .join('\n');
}
