// Probe results as the TLS, certificate, SMTP and DNS probes return them, for report, grade and render tests.
// Each scenario is a small variation of a well-configured server, so a test shows exactly what changes a grade.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_DOMAIN_SCHEMA, type DomainAuditReport } from '../../../src/audit/domain.js';
import { worseGrade } from '../../../src/audit/grade.js';
import { type AuditReport, buildReport, type ReportParts } from '../../../src/audit/report.js';
import type {
  CertificateResult,
  CertificateSummary,
  CipherSuiteInfo,
  CipherWeakness,
  DnsPolicyResult,
  Finding,
  ProtocolName,
  SmtpScanResult,
  TlsScanResult,
} from '../../../src/audit/types.js';
import { PROTOCOLS } from '../../../src/audit/types.js';

export const STARTED = '2025-06-01T12:00:00.000Z';
const SPKI = Buffer.alloc(32, 7).toString('base64');

const TLS13: Readonly<Record<string, [string, number]>> = {
  TLS_AES_128_GCM_SHA256: ['AES-128-GCM', 128],
  TLS_AES_256_GCM_SHA384: ['AES-256-GCM', 256],
  TLS_CHACHA20_POLY1305_SHA256: ['CHACHA20-POLY1305', 256],
  TLS_AES_128_CCM_SHA256: ['AES-128-CCM', 128],
};

/** A CipherSuiteInfo from an IANA name, the way the scanner's registry describes it. */
export function suite(name: string): CipherSuiteInfo {
  const t13 = TLS13[name];
  if (t13) {
    return {
      name,
      code: '1301',
      kx: 'any',
      auth: 'any',
      encryption: t13[0],
      bits: t13[1],
      mac: 'AEAD',
      aead: true,
      forwardSecrecy: true,
      weaknesses: [],
    };
  }
  const m = /^(?:TLS|SSL)_(.+)_WITH_(.+)_(SHA384|SHA256|SHA|MD5|NULL)$/.exec(name);
  if (!m) throw new Error(`fixture: unknown suite ${name}`);
  const [, kxAuth = '', enc = '', mac = ''] = m;
  const [kx = '', auth = 'RSA'] = kxAuth.split('_');
  const weaknesses: CipherWeakness[] = [];
  const export_ = kxAuth.includes('EXPORT') || enc.includes('40');
  if (export_) weaknesses.push('EXPORT');
  if (kxAuth.includes('anon')) weaknesses.push('anon');
  if (enc === 'NULL') weaknesses.push('NULL');
  if (enc.startsWith('RC4')) weaknesses.push('RC4');
  if (enc.startsWith('3DES')) weaknesses.push('3DES');
  else if (enc.startsWith('DES')) weaknesses.push('DES');
  if (enc.startsWith('IDEA')) weaknesses.push('IDEA');
  if (enc.startsWith('RC2')) weaknesses.push('RC2');
  if (mac === 'MD5') weaknesses.push('MD5');
  const aead = /GCM|CHACHA20|CCM/.test(enc);
  if (enc.includes('CBC')) weaknesses.push('CBC');
  const fs = kx === 'ECDHE' || kx === 'DHE';
  if (kx === 'RSA') weaknesses.push('static-RSA');
  if (kx === 'DH' || kx === 'ECDH') weaknesses.push('static-DH');
  const bits =
    enc === 'NULL'
      ? 0
      : export_
        ? 40
        : enc.startsWith('CHACHA20')
          ? 256
          : Number(/(\d{3})/.exec(enc)?.[1] ?? (enc.startsWith('3DES') ? 112 : 56));
  return {
    name,
    code: '0000',
    kx,
    auth: kxAuth.includes('anon') ? 'anon' : auth,
    encryption: enc.replace(/_/g, '-'),
    bits,
    mac: aead ? 'AEAD' : mac,
    aead,
    forwardSecrecy: fs,
    weaknesses,
  };
}

export const STRONG_12 = [
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
];
export const STRONG_13 = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

type Offer = Partial<Record<ProtocolName, readonly string[]>>;

/** A TLS scan: `offer` maps each accepted protocol to its suites; the others were refused. */
export function tlsScan(
  offer: Offer = { 'TLSv1.2': STRONG_12, 'TLSv1.3': STRONG_13 },
  over: Partial<TlsScanResult> = {},
): TlsScanResult {
  const per = <T>(f: (p: ProtocolName) => T) =>
    Object.fromEntries(PROTOCOLS.map((p) => [p, f(p)])) as Record<ProtocolName, T>;
  return {
    protocols: per((p) => offer[p] !== undefined),
    ciphers: per((p) => (offer[p] ?? []).map(suite)),
    serverPreference: per((p) => ((offer[p]?.length ?? 0) > 1 && p !== 'TLSv1.3' ? true : null)),
    groups: ['x25519', 'secp256r1', 'secp384r1'],
    dhBits: [],
    secureRenegotiation: true,
    compression: false,
    fallbackScsv: Object.keys(offer).length > 1 ? true : null,
    notes: [],
    connections: 42,
    ...over,
  };
}

export function leafCert(over: Partial<CertificateSummary> = {}): CertificateSummary {
  return {
    subject: 'CN=mail.example.com',
    issuer: 'C=US, O=Let’s Encrypt, CN=R11',
    altNames: ['DNS:mail.example.com', 'DNS:smtp.example.com'],
    validFrom: '2025-05-02T00:00:00.000Z',
    validTo: '2025-07-31T00:00:00.000Z',
    daysLeft: 59,
    selfSigned: false,
    keyType: 'ec',
    keyBits: 256,
    signatureAlgorithm: 'ecdsa-with-SHA384',
    fingerprintSha256:
      'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
    spkiSha256: SPKI,
    der: 'MIIBfake',
    ...over,
  };
}

const ISSUER: CertificateSummary = leafCert({
  subject: 'C=US, O=Let’s Encrypt, CN=R11',
  issuer: 'C=US, O=Internet Security Research Group, CN=ISRG Root X1',
  altNames: [],
  validTo: '2027-03-12T23:59:59.000Z',
  daysLeft: 649,
  keyType: 'rsa',
  keyBits: 2048,
  signatureAlgorithm: 'sha256WithRSAEncryption',
});

export function certCheck(
  over: Partial<CertificateResult> = {},
  leaf: Partial<CertificateSummary> = {},
): CertificateResult {
  return {
    chain: [leafCert(leaf), ISSUER],
    trusted: true,
    nameMatches: true,
    namesChecked: ['mail.example.com'],
    namesMatched: ['mail.example.com'],
    ocspStapled: false,
    sessionIdResumption: true,
    ticketResumption: true,
    negotiated: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    ...over,
  };
}

/** A certificate that signs itself (`postern cert` / snakeoil style). */
export function selfSignedCert(): CertificateResult {
  const leaf = leafCert({ issuer: 'CN=mail.example.com', selfSigned: true });
  return certCheck({ chain: [leaf], trusted: false, verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
}

export function smtpScan(over: Partial<SmtpScanResult> = {}): SmtpScanResult {
  return {
    banner: '220 mail.example.com ESMTP Postfix (Debian/GNU)',
    ehloBeforeTls: [
      'PIPELINING',
      'SIZE 10240000',
      'STARTTLS',
      'ENHANCEDSTATUSCODES',
      '8BITMIME',
      'SMTPUTF8',
      'CHUNKING',
    ],
    ehloAfterTls: [
      'PIPELINING',
      'SIZE 10240000',
      'AUTH PLAIN LOGIN',
      'ENHANCEDSTATUSCODES',
      '8BITMIME',
      'SMTPUTF8',
      'CHUNKING',
    ],
    starttlsOffered: true,
    starttlsAfterTls: false,
    authBeforeTls: { offered: [], accepted: false, reply: '530 5.7.0 Must issue a STARTTLS command first' },
    authAfterTls: ['PLAIN', 'LOGIN'],
    starttlsInjection: { vulnerable: false, evidence: 'the pipelined NOOP was discarded' },
    vrfy: { enabled: false, reply: '502 5.5.1 VRFY command is disabled' },
    expn: { enabled: false, reply: '502 5.5.2 Error: command not recognized' },
    size: 10240000,
    smtputf8: true,
    requireTls: false,
    chunking: true,
    pipelining: true,
    ...over,
  };
}

export function dnsPolicy(over: Partial<DnsPolicyResult> = {}): DnsPolicyResult {
  return {
    domain: 'example.com',
    mx: [{ preference: 10, exchange: 'mail.example.com' }],
    mtaSts: {
      record: 'v=STSv1; id=20250101T000000',
      id: '20250101T000000',
      policy: { mode: 'enforce', mx: ['mail.example.com'], maxAge: 604800 },
      mxMatched: { 'mail.example.com': true },
      errors: [],
    },
    tlsRpt: {
      record: 'v=TLSRPTv1; rua=mailto:tlsrpt@example.com',
      rua: ['mailto:tlsrpt@example.com'],
      errors: [],
    },
    dane: [{ mx: 'mail.example.com', records: [], authenticated: false, matches: null, errors: [] }],
    ...over,
  };
}

/** No MTA-STS, no TLS-RPT, no DANE: a domain that only has its MX. */
export function bareDns(): DnsPolicyResult {
  return dnsPolicy({
    mtaSts: { record: null, policy: null, mxMatched: {}, errors: [] },
    tlsRpt: { record: null, rua: [], errors: [] },
  });
}

export const DANE_EE = { usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7).toString('hex') };

/** The parts of a well-configured submission server on 587; pass overrides for the scenario. */
export function parts(over: Partial<ReportParts> = {}): ReportParts {
  return {
    target: { host: 'mail.example.com', port: 587, mode: 'starttls' },
    startedAt: STARTED,
    durationMs: 1834,
    tls: tlsScan(),
    certificate: certCheck(),
    smtp: smtpScan(),
    errors: [],
    ...over,
  };
}

/** The same server as an MX on port 25 (opportunistic TLS). */
export function mxParts(over: Partial<ReportParts> = {}): ReportParts {
  return parts({ target: { host: 'mail.example.com', port: 25, mode: 'starttls' }, ...over });
}

/** Debian Postfix's defaults as the issue describes them: TLS 1.0–1.3, anonymous and CBC suites, static RSA. */
export function postfixDefaults(): ReportParts {
  const legacy = [
    'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
    'TLS_DHE_RSA_WITH_AES_256_CBC_SHA',
    'TLS_ECDH_anon_WITH_AES_256_CBC_SHA',
    'TLS_DH_anon_WITH_AES_256_CBC_SHA',
    'TLS_RSA_WITH_AES_256_CBC_SHA',
    'TLS_RSA_WITH_AES_128_CBC_SHA',
  ];
  return mxParts({
    tls: tlsScan(
      {
        'TLSv1.0': legacy,
        'TLSv1.1': legacy,
        'TLSv1.2': [
          ...STRONG_12,
          'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
          'TLS_DH_anon_WITH_AES_256_GCM_SHA384',
          ...legacy,
        ],
        'TLSv1.3': STRONG_13,
      },
      {
        dhBits: [2048],
        serverPreference: {
          SSLv2: null,
          SSLv3: null,
          'TLSv1.0': false,
          'TLSv1.1': false,
          'TLSv1.2': false,
          'TLSv1.3': null,
        },
      },
    ),
    certificate: selfSignedCert(),
    smtp: smtpScan({
      banner: '220 debian ESMTP Postfix (Debian/GNU)',
      authAfterTls: [],
      ehloAfterTls: [
        'PIPELINING',
        'SIZE 10240000',
        'VRFY',
        'ETRN',
        'ENHANCEDSTATUSCODES',
        '8BITMIME',
        'DSN',
        'SMTPUTF8',
        'CHUNKING',
      ],
      vrfy: { enabled: true, reply: '252 2.0.0 VRFY' },
    }),
  });
}

/** Text that tries to break out of every context it could land in. */
export const HOSTILE =
  '<script>document.title="pwned"</script><img src=x onerror="document.title=1">"\'&amp; \x1b[2J\x1b]0;owned\x07 \u202eevil\r\nX-Injected: 1';

/** A report whose server-controlled fields are all hostile. */
export function hostileParts(): ReportParts {
  const leaf = leafCert({
    subject: `CN=${HOSTILE}`,
    issuer: `O=${HOSTILE}`,
    altNames: [`DNS:${HOSTILE}`],
    selfSigned: true,
  });
  return parts({
    certificate: certCheck({ chain: [leaf], trusted: false, verifyError: HOSTILE, nameMatches: false }),
    smtp: smtpScan({
      banner: `220 ${HOSTILE}`,
      ehloBeforeTls: [HOSTILE, 'AUTH PLAIN', 'STARTTLS'],
      authBeforeTls: { offered: ['PLAIN'], accepted: true, reply: `235 ${HOSTILE}` },
      starttlsInjection: { vulnerable: true, evidence: HOSTILE },
      smuggling: [{ ending: '\\n.\\n', outcome: 'accepted', evidence: HOSTILE }],
      relay: [{ from: 'a@example.com', to: `x@${HOSTILE}`, reply: `250 ${HOSTILE}`, accepted: true }],
    }),
    errors: [{ probe: 'tls', code: 'ETIMEOUT', message: HOSTILE }],
  });
}

/** A report with something in every section: Postfix defaults on 25, a domain in MTA-STS testing, --profile. */
export function showcaseParts(): ReportParts {
  const base = postfixDefaults();
  const dns = dnsPolicy();
  return {
    ...base,
    dns: {
      ...dns,
      mx: [...dns.mx, { preference: 20, exchange: 'backup.example.net' }],
      mtaSts: {
        ...dns.mtaSts,
        policy: { mode: 'testing', mx: ['mail.example.com'], maxAge: 86400 },
        mxMatched: { 'mail.example.com': true, 'backup.example.net': false },
      },
      dane: [
        { mx: 'mail.example.com', records: [], authenticated: false, matches: null, errors: [] },
        { mx: 'backup.example.net', records: [DANE_EE], authenticated: false, matches: null, errors: [] },
      ],
    },
    smtp: base.smtp
      ? {
          ...base.smtp,
          smuggling: [
            { ending: '\\n.\\n', outcome: 'not-end-of-data', evidence: 'kept as message text' },
            { ending: '\\r\\n.\\r', outcome: 'rejected', evidence: '521 5.5.2 bare CR' },
            { ending: '\\r\\n\\x00.\\r\\n', outcome: 'rejected', evidence: '500 5.5.2 NUL in data' },
          ],
          relay: [
            {
              from: 'audit@example.org',
              to: 'audit@example.net',
              reply: '554 5.7.1 Relay access denied',
              accepted: false,
            },
          ],
        }
      : null,
    profile: 'intermediate',
  };
}

/** A --domain result: the MX on 25 and 587 (by address, with the MX name as servername) and one unreachable host. */
export function domainReport(): DomainAuditReport {
  const dns = showcaseParts().dns ?? dnsPolicy();
  const host = { host: '192.0.2.10', servername: 'mail.example.com' };
  const reports = [
    buildReport(
      mxParts({
        target: { ...host, port: 25, mode: 'starttls' },
        certificate: selfSignedCert(),
        dns,
        role: 'mx',
      }),
    ),
    buildReport(parts({ target: { ...host, port: 587, mode: 'starttls' }, dns, role: 'submission' })),
  ];
  return {
    schema: AUDIT_DOMAIN_SCHEMA,
    version: 1,
    domain: 'example.com',
    startedAt: STARTED,
    durationMs: 4120,
    dns,
    reports,
    unreachable: [{ host: 'backup.example.net', port: 25, error: 'connect ECONNREFUSED 192.0.2.20:25' }],
    grade: reports.map((r) => r.grade.grade).reduce(worseGrade),
  };
}

/** Builds reports and remembers every finding id they produced, for the check that docs/audit-grading.md lists each. */
export class ReportRecorder {
  readonly seen = new Set<string>();

  report(p: ReportParts): AuditReport {
    const r = buildReport(p);
    for (const f of r.findings) this.seen.add(f.id);
    return r;
  }

  /** The ids seen that docs/audit-grading.md does not mention. */
  undocumented(): string[] {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/audit-grading.md'), 'utf8');
    return [...this.seen].filter((id) => !doc.includes(`\`${id}\``));
  }
}

export function findingIds(r: AuditReport): string[] {
  return r.findings.map((f) => f.id);
}

/** The finding with `id`; fails the test (listing what there is) when the report has none. */
export function findingById(r: AuditReport, id: string): Finding {
  const f = r.findings.find((x) => x.id === id);
  assert.ok(f, `no finding ${id} in ${findingIds(r).join(', ')}`);
  return f;
}
