/**
 * The audit report as terminal text, in sections: Transport, Protocols, Ciphers, Key exchange, TLS features,
 * Certificate, SMTP, DNS policy, Profile, Findings (with fixes) and Grade. Colour comes from a `style` the caller
 * passes (the CLI's, or `plainStyle`); text from the server is stripped of control characters first, so a hostile
 * banner or certificate subject cannot move the cursor or recolour the terminal.
 */

import type { DomainAuditReport } from './domain.js';
import { SEVERITIES } from './findings.js';
import type { AuditReport } from './report.js';
import {
  type CipherSuiteInfo,
  type DnsPolicyResult,
  type Finding,
  PROTOCOLS,
  type Severity,
} from './types.js';

/** The colours the text report uses; the CLI's Style fits. Identity functions turn colour off. */
export interface TextStyle {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const same = (text: string): string => text;
export const plainStyle: TextStyle = {
  bold: same,
  dim: same,
  red: same,
  green: same,
  yellow: same,
  cyan: same,
};

export interface TextOptions {
  readonly style?: TextStyle | undefined;
  /** Wrap width; default 100. */
  readonly width?: number | undefined;
  /** Also list the 'ok' findings one per line (default true). */
  readonly showOk?: boolean | undefined;
}

// C0 and C1 controls, DEL, and the bidi overrides that can reorder what a terminal shows.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Server-supplied text made inert for a terminal: controls become visible escapes. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const c = terminalSafe;

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/)) {
      if (line !== '' && indent.length + line.length + 1 + word.length > width) {
        lines.push(indent + line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    lines.push(indent + line);
  }
  return lines;
}

class Out {
  readonly lines: string[] = [];
  constructor(
    readonly s: TextStyle,
    readonly width: number,
  ) {}
  heading(title: string): void {
    this.lines.push('', this.s.bold(this.s.cyan(title)));
  }
  /** "  Label        value" with the value wrapped under itself; `value` must already be safe. */
  row(label: string, value: string, pad = 20): void {
    this.lines.push(`  ${label.padEnd(pad - 1)} ${value}`);
  }
  text(value: string, indent = '  '): void {
    this.lines.push(...wrap(value, this.width, indent));
  }
}

function yesNo(
  s: TextStyle,
  value: boolean | null | undefined,
  good: boolean,
  labels = ['yes', 'no'],
): string {
  if (value === null || value === undefined) return s.dim('not tested');
  const text = value ? labels[0]! : labels[1]!;
  return value === good ? s.green(text) : s.yellow(text);
}

function severityLabel(s: TextStyle, severity: Severity): string {
  const label = severity.toUpperCase().padEnd(8);
  switch (severity) {
    case 'critical':
    case 'high':
      return s.bold(s.red(label));
    case 'medium':
      return s.yellow(label);
    case 'low':
      return s.yellow(label);
    case 'info':
      return s.dim(label);
    case 'ok':
      return s.green(label);
  }
}

function gradeColour(s: TextStyle, grade: string): string {
  if (grade.startsWith('A')) return s.bold(s.green(grade));
  if (grade === 'B' || grade === 'C') return s.bold(s.yellow(grade));
  return s.bold(s.red(grade));
}

function transport(o: Out, r: AuditReport): void {
  o.heading('Transport');
  const t = r.target;
  o.row('Target', c(targetLabel(r)));
  o.row('Mode', t.mode === 'starttls' ? 'STARTTLS (plaintext greeting, then TLS)' : 'implicit TLS');
  o.row(
    'Graded as',
    t.role === 'mx' ? 'MX (port 25: opportunistic TLS unless DANE/MTA-STS)' : 'submission (clients verify)',
  );
  if (r.smtp) {
    o.row('Banner', c(r.smtp.banner));
    if (r.smtp.ehloBeforeTls) o.row('EHLO before TLS', c(r.smtp.ehloBeforeTls.join(', ')));
    if (r.smtp.ehloAfterTls) o.row('EHLO after TLS', c(r.smtp.ehloAfterTls.join(', ')));
  }
  if (r.certificate) {
    o.row('Negotiated', `${c(r.certificate.negotiated.version)} ${c(r.certificate.negotiated.cipher)}`);
  }
}

function protocols(o: Out, r: AuditReport): void {
  const s = o.s;
  o.heading('Protocols');
  for (const p of PROTOCOLS) {
    const v = r.protocols[p];
    let text: string;
    if (v === null) text = s.dim('not tested');
    else if (p === 'TLSv1.2' || p === 'TLSv1.3') text = v ? s.green('offered') : s.yellow('not offered');
    else if (p === 'SSLv2' || p === 'SSLv3') text = v ? s.red('offered ✗') : s.green('not offered');
    else text = v ? s.yellow('offered (deprecated)') : s.green('not offered');
    o.row(p, text, 10);
  }
}

function suiteMarks(s: TextStyle, suite: CipherSuiteInfo): string {
  const marks = [suite.forwardSecrecy ? s.green('FS') : s.yellow('no FS'), suite.aead ? s.green('AEAD') : ''];
  const weak = suite.weaknesses.filter((w) => w !== 'static-RSA' && w !== 'static-DH');
  const serious = weak.filter((w) => w !== 'CBC');
  if (weak.includes('CBC')) marks.push(s.yellow('CBC'));
  if (serious.length > 0) marks.push(s.red(`weak: ${serious.join(', ')}`));
  return marks.filter(Boolean).join(' ');
}

function ciphers(o: Out, r: AuditReport): void {
  const s = o.s;
  o.heading('Ciphers');
  const offered = PROTOCOLS.filter((p) => r.cipherDetails[p].length > 0);
  if (offered.length === 0) {
    o.text(s.dim('No cipher suites were accepted (or none could be tested).'));
    return;
  }
  for (const p of [...offered].reverse()) {
    const pref = r.serverPreference[p];
    const order = pref === true ? 'server order' : pref === false ? 'client order' : 'order unknown';
    o.lines.push(`  ${s.bold(p)} ${s.dim(`(${r.cipherDetails[p].length} suites, ${order})`)}`);
    const widest = Math.max(...r.cipherDetails[p].map((x) => x.name.length));
    for (const suite of r.cipherDetails[p]) {
      o.lines.push(
        `    ${c(suite.name).padEnd(widest + 2)}${String(suite.bits).padStart(3)} bit  ${suiteMarks(s, suite)}`,
      );
    }
  }
}

function keyExchange(o: Out, r: AuditReport): void {
  o.heading('Key exchange');
  o.row('Groups', r.groups.length > 0 ? c(r.groups.join(', ')) : o.s.dim('none found'));
  if (r.dhBits.length > 0) {
    const min = Math.min(...r.dhBits);
    const text = `${[...new Set(r.dhBits)].join(', ')} bits`;
    o.row('DHE parameters', min < 2048 ? o.s.yellow(text) : text);
  }
}

function features(o: Out, r: AuditReport): void {
  const s = o.s;
  const f = r.tlsFeatures;
  o.heading('TLS features');
  o.row('Secure renegotiation', yesNo(s, f.secureRenegotiation, true), 24);
  o.row('Compression', yesNo(s, f.compression, false), 24);
  o.row('Fallback SCSV', yesNo(s, f.fallbackScsv, true), 24);
  o.row('Session ID resumption', yesNo(s, f.sessionIdResumption, true), 24);
  o.row('Session tickets', yesNo(s, f.ticketResumption, true), 24);
  o.row('OCSP stapling', yesNo(s, f.ocspStapling, true), 24);
}

function certificate(o: Out, r: AuditReport): void {
  const s = o.s;
  o.heading('Certificate');
  const cert = r.certificate;
  const leaf = cert?.chain[0];
  if (!cert || !leaf) {
    o.text(s.dim('No certificate was retrieved.'));
    return;
  }
  o.row('Subject', c(leaf.subject));
  o.row('Names', c(leaf.altNames.join(', ') || '(no subjectAltName)'));
  o.row('Issuer', c(leaf.issuer));
  const days = leaf.daysLeft < 0 ? s.red(`expired ${-leaf.daysLeft} days ago`) : `${leaf.daysLeft} days left`;
  o.row('Valid', `${c(leaf.validFrom)} → ${c(leaf.validTo)} (${leaf.daysLeft < 30 ? s.yellow(days) : days})`);
  o.row('Key', `${c(leaf.keyType.toUpperCase())}${leaf.keyBits ? ` ${leaf.keyBits} bits` : ''}`);
  o.row('Signature', c(leaf.signatureAlgorithm));
  o.row('Trusted', cert.trusted ? s.green('yes') : s.red(`no (${c(cert.verifyError ?? 'unknown error')})`));
  o.row(
    'Name matches',
    cert.nameMatches
      ? s.green(`yes (${c(cert.namesMatched.join(', '))})`)
      : s.red(`no (checked ${c(cert.namesChecked.join(', '))})`),
  );
  if (leaf.selfSigned) o.row('Self-signed', s.yellow('yes'));
  o.row('SHA-256', c(leaf.fingerprintSha256));
  o.row('SPKI pin', `sha256/${c(leaf.spkiSha256)}`);
  if (cert.chain.length > 1) {
    cert.chain.forEach((x, i) => {
      o.row(i === 0 ? 'Chain' : '', `${i + 1}. ${c(x.subject)} ${s.dim(`← ${c(x.issuer)}`)}`);
    });
  }
}

function smtp(o: Out, r: AuditReport): void {
  const s = o.s;
  o.heading('SMTP');
  const m = r.smtp;
  if (!m) {
    o.text(s.dim('The SMTP checks did not run.'));
    return;
  }
  if (r.target.mode === 'starttls') {
    o.row('STARTTLS offered', yesNo(s, m.starttlsOffered, true));
    const a = m.authBeforeTls;
    const before =
      a.offered.length > 0 ? s.red(`offered: ${c(a.offered.join(' '))}`) : s.green('not offered');
    const accepted = a.accepted === true ? s.red(', accepted') : a.accepted === false ? ', refused' : '';
    o.row('AUTH before TLS', `${before}${accepted}${a.reply ? s.dim(` (${c(a.reply)})`) : ''}`);
    o.row('STARTTLS after TLS', yesNo(s, m.starttlsAfterTls, false));
    const inj = m.starttlsInjection.vulnerable;
    o.row('STARTTLS injection', yesNo(s, inj, false, ['vulnerable', 'not vulnerable']));
  }
  o.row('AUTH after TLS', m.authAfterTls.length > 0 ? c(m.authAfterTls.join(' ')) : s.dim('none'));
  o.row(
    'VRFY',
    `${yesNo(s, m.vrfy.enabled, false, ['enabled', 'disabled'])}${m.vrfy.reply ? s.dim(` (${c(m.vrfy.reply)})`) : ''}`,
  );
  o.row(
    'EXPN',
    `${yesNo(s, m.expn.enabled, false, ['enabled', 'disabled'])}${m.expn.reply ? s.dim(` (${c(m.expn.reply)})`) : ''}`,
  );
  o.row('SIZE', m.size === null ? s.dim('not advertised') : `${m.size} bytes`);
  const ext = (name: string, on: boolean) => `${name} ${on ? s.green('yes') : s.dim('no')}`;
  o.row(
    'Extensions',
    [
      ext('PIPELINING', m.pipelining),
      ext('CHUNKING', m.chunking),
      ext('SMTPUTF8', m.smtputf8),
      ext('REQUIRETLS', m.requireTls),
    ].join('  '),
  );
  if (m.smuggling) {
    o.row('Smuggling', '');
    for (const t of m.smuggling) {
      const outcome =
        t.outcome === 'accepted'
          ? s.red('ACCEPTED')
          : t.outcome === 'error'
            ? s.dim('error')
            : s.green(t.outcome);
      o.lines.push(`    ${c(t.ending).padEnd(14)}${outcome} ${s.dim(c(t.evidence))}`);
    }
  }
  if (m.relay) {
    o.row('Relay test', m.relaySource ? s.dim(`from a ${m.relaySource} address`) : '');
    for (const t of m.relay) {
      const verdict =
        t.accepted === null ? s.dim('not tested') : t.accepted ? s.red('accepted') : s.green('refused');
      o.lines.push(`    ${c(t.from)} → ${c(t.to)}: ${verdict} ${s.dim(c(t.reply))}`);
    }
  }
}

function dnsPolicy(o: Out, d: DnsPolicyResult | undefined): void {
  if (!d) return;
  const s = o.s;
  o.heading('DNS policy');
  o.row('Domain', c(d.domain));
  o.row(
    'MX',
    d.mx.length > 0 ? c(d.mx.map((m) => `${m.preference} ${m.exchange}`).join(', ')) : s.yellow('none'),
  );
  const sts = d.mtaSts;
  o.row('MTA-STS record', sts.record ? c(sts.record) : s.yellow('none'));
  if (sts.policy) {
    const mode = sts.policy.mode === 'enforce' ? s.green('enforce') : s.yellow(sts.policy.mode);
    o.row('MTA-STS policy', `mode ${mode}, mx ${c(sts.policy.mx.join(' '))}, max_age ${sts.policy.maxAge}`);
  }
  for (const e of sts.errors) o.row('', s.yellow(c(e)));
  o.row('TLS-RPT', d.tlsRpt.record ? c(d.tlsRpt.record) : s.yellow('none'));
  for (const dane of d.dane) {
    const state =
      dane.records.length === 0
        ? s.dim('no TLSA records')
        : `${dane.authenticated ? s.green('DNSSEC') : s.yellow('no DNSSEC')}, ${yesNo(s, dane.matches, true, ['matches', 'does not match'])}`;
    o.row('DANE', `${c(dane.mx)}: ${state}`);
    for (const rec of dane.records) {
      o.lines.push(`    ${rec.usage} ${rec.selector} ${rec.matchingType} ${c(rec.data)}`);
    }
  }
}

function profile(o: Out, r: AuditReport): void {
  const p = r.profile;
  if (!p) return;
  const s = o.s;
  o.heading(`Mozilla profile: ${p.profile} (guidelines ${c(p.guidelines)})`);
  o.text(
    p.compliant
      ? s.green('Compliant.')
      : s.yellow(
          `Not compliant: ${p.deviations.filter((d) => d.level === 'required').length} required change(s).`,
        ),
  );
  for (const d of p.deviations) {
    const tag = d.level === 'required' ? s.yellow('required   ') : s.dim('recommended');
    o.lines.push(`  ${tag} ${c(d.message)}`);
  }
}

function findingBlock(o: Out, f: Finding): void {
  const s = o.s;
  const cap = f.cap ? s.dim(` [caps at ${f.cap}]`) : '';
  o.lines.push(`  ${severityLabel(s, f.severity)} ${s.bold(c(f.title))}${cap}  ${s.dim(f.id)}`);
  o.text(c(f.evidence), '           ');
  if (f.fix) {
    o.text(`${s.cyan('Fix:')} ${c(f.fix.summary)}`, '           ');
    for (const [name, value] of [
      ['Postfix', f.fix.postfix],
      ['Exim', f.fix.exim],
      ['Postern', f.fix.postern],
    ] as const) {
      if (!value) continue;
      const [first, ...rest] = value.split('\n').map(c);
      o.lines.push(`             ${s.dim(name.padEnd(8))} ${first}`);
      for (const more of rest) o.lines.push(`             ${' '.repeat(8)} ${more}`);
    }
  }
}

function findings(o: Out, r: AuditReport, showOk: boolean): void {
  const s = o.s;
  o.heading('Findings');
  const problems = r.findings.filter((f) => f.severity !== 'ok');
  if (!problems.some((f) => f.severity !== 'info')) o.text(s.green('No problems found.'));
  for (const severity of SEVERITIES) {
    if (severity === 'ok') continue;
    for (const f of problems.filter((x) => x.severity === severity)) findingBlock(o, f);
  }
  const ok = r.findings.filter((f) => f.severity === 'ok');
  if (showOk && ok.length > 0) {
    o.lines.push('');
    for (const f of ok) o.lines.push(`  ${s.green('✓')} ${c(f.title)} ${s.dim(`— ${c(f.evidence)}`)}`);
  }
}

function grade(o: Out, r: AuditReport): void {
  const s = o.s;
  o.heading('Grade');
  const g = r.grade;
  o.lines.push(`  ${gradeColour(s, g.grade)}`);
  if (g.capReasons.length > 0) {
    o.text('Capped by:');
    for (const reason of g.capReasons)
      o.lines.push(`    ${reason.cap.padEnd(3)}${c(reason.title)} ${s.dim(reason.id)}`);
  }
  if (g.missingForAPlus.length > 0) o.text(`For A+: ${c(g.missingForAPlus.join('; '))}.`);
}

function targetLabel(r: AuditReport): string {
  const t = r.target;
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return t.servername && t.servername !== t.host
    ? `${t.servername}:${t.port} (${host})`
    : `${host}:${t.port}`;
}

function body(o: Out, report: AuditReport, options: TextOptions, withDns: boolean): void {
  const s = o.s;
  transport(o, report);
  protocols(o, report);
  ciphers(o, report);
  keyExchange(o, report);
  features(o, report);
  certificate(o, report);
  smtp(o, report);
  if (withDns) dnsPolicy(o, report.dns);
  profile(o, report);
  findings(o, report, options.showOk ?? true);
  if (report.errors.length > 0 || report.notes.length > 0) {
    o.heading('Not tested');
    for (const e of report.errors) o.text(`${c(e.probe)}: ${c(e.message)} ${s.dim(`(${c(e.code)})`)}`);
    for (const n of report.notes) o.text(c(n));
  }
  grade(o, report);
}

/**
 * The report as text for a terminal.
 *
 * @example process.stdout.write(renderText(report, { style: createStyle(true) }))
 */
export function renderText(report: AuditReport, options: TextOptions = {}): string {
  const s = options.style ?? plainStyle;
  const o = new Out(s, options.width ?? 100);
  o.lines.push(
    `${s.bold(`Postern audit of ${c(targetLabel(report))}`)}  ${gradeColour(s, report.grade.grade)}  ${s.dim(`${report.startedAt}, ${(report.durationMs / 1000).toFixed(1)} s`)}`,
  );
  body(o, report, options, true);
  return `${o.lines.join('\n')}\n`;
}

/**
 * The reports of a mail domain as text: the hosts and their grades, the DNS policy once, then each host.
 *
 * @example process.stdout.write(renderDomainText(await auditDomain({ domain: 'example.com' })))
 */
export function renderDomainText(domain: DomainAuditReport, options: TextOptions = {}): string {
  const s = options.style ?? plainStyle;
  const o = new Out(s, options.width ?? 100);
  o.lines.push(
    `${s.bold(`Postern audit of the mail domain ${c(domain.domain)}`)}  ${gradeColour(s, domain.grade)}  ${s.dim(`${domain.startedAt}, ${(domain.durationMs / 1000).toFixed(1)} s`)}`,
  );
  o.heading('Hosts');
  const labels = domain.reports.map(targetLabel);
  const width = Math.max(20, ...labels.map((l) => l.length + 2));
  domain.reports.forEach((r, i) => {
    const worst = r.grade.capReasons[0];
    const why = worst ? `${' '.repeat(4 - r.grade.grade.length)}${s.dim(c(worst.title))}` : '';
    o.lines.push(`  ${c(labels[i]!).padEnd(width)}${gradeColour(s, r.grade.grade)}${why}`);
  });
  for (const u of domain.unreachable) {
    o.lines.push(`  ${c(`${u.host}:${u.port}`).padEnd(width)}${s.red('unreachable')} ${s.dim(c(u.error))}`);
  }
  if (domain.reports.length === 0 && domain.unreachable.length === 0)
    o.text(s.yellow('No MX host to audit.'));
  dnsPolicy(o, domain.dns);
  domain.reports.forEach((r, i) => {
    o.lines.push(
      '',
      s.bold(`━━ ${c(labels[i]!)} ${'━'.repeat(Math.max(4, o.width - labels[i]!.length - 6))}`),
    );
    o.lines.push(
      `  ${gradeColour(s, r.grade.grade)}  ${s.dim(r.target.role === 'mx' ? 'MX' : 'submission')}`,
    );
    body(o, r, options, false);
  });
  o.heading('Domain grade');
  o.lines.push(`  ${gradeColour(s, domain.grade)}  ${s.dim('the worst grade of its hosts')}`);
  return `${o.lines.join('\n')}\n`;
}
