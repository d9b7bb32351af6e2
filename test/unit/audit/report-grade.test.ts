// Findings and grades for fixture scans: what each configuration earns, and why (docs/audit-grading.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deriveFindings, roleOfPort } from '../../../src/audit/findings.js';
import { gradeFindings, worseGrade } from '../../../src/audit/grade.js';
import type { AuditReport, ReportParts } from '../../../src/audit/report.js';
import {
  bareDns,
  certCheck,
  DANE_EE,
  dnsPolicy,
  findingById,
  findingIds,
  hostileParts,
  mxParts,
  parts,
  postfixDefaults,
  ReportRecorder,
  STRONG_12,
  STRONG_13,
  selfSignedCert,
  smtpScan,
  tlsScan,
} from './report-fixtures.js';

const recorder = new ReportRecorder();
const report = (p: ReportParts): AuditReport => recorder.report(p);
const ids = findingIds;
const byId = findingById;

describe('grades of whole configurations', () => {
  test('a modern submission server (TLS 1.2 + 1.3, forward-secret AEAD only, trusted) gets A+', () => {
    const r = report(parts());
    assert.equal(r.grade.grade, 'A+');
    assert.deepEqual(r.grade.capReasons, []);
    assert.ok(ids(r).includes('tls.protocol.tls13'));
    assert.ok(ids(r).includes('tls.cipher.strong'));
    assert.ok(ids(r).includes('cert.ok'));
    assert.ok(ids(r).includes('smtp.auth-tls-only'));
    // OCSP stapling is information only: it neither caps nor blocks A+.
    assert.equal(byId(r, 'cert.ocsp.not-stapled').severity, 'info');
  });

  test('the same server without TLS 1.3 gets A, and the report says what A+ needs', () => {
    const r = report(parts({ tls: tlsScan({ 'TLSv1.2': STRONG_12 }) }));
    assert.equal(r.grade.grade, 'A');
    assert.ok(r.grade.missingForAPlus.some((m) => m.includes('TLS 1.3')));
    assert.equal(byId(r, 'tls.protocol.no-tls13').severity, 'low');
  });

  test('offering TLS 1.0 caps at B (and TLS 1.1 alike)', () => {
    const r = report(
      parts({ tls: tlsScan({ 'TLSv1.0': STRONG_12, 'TLSv1.2': STRONG_12, 'TLSv1.3': STRONG_13 }) }),
    );
    assert.equal(r.grade.grade, 'B');
    assert.deepEqual(
      r.grade.capReasons.map((c) => [c.id, c.cap]),
      [['tls.protocol.tls10', 'B']],
    );
    const r11 = report(parts({ tls: tlsScan({ 'TLSv1.1': STRONG_12, 'TLSv1.2': STRONG_12 }) }));
    assert.equal(r11.grade.grade, 'B');
    assert.ok(ids(r11).includes('tls.protocol.tls11'));
  });

  test('only TLS 1.0/1.1 caps at C; SSLv3 at C; SSLv2 at F', () => {
    assert.equal(report(parts({ tls: tlsScan({ 'TLSv1.0': STRONG_12 }) })).grade.grade, 'C');
    const ssl3 = report(
      parts({ tls: tlsScan({ SSLv3: ['TLS_RSA_WITH_AES_128_CBC_SHA'], ...offer12and13() }) }),
    );
    assert.equal(ssl3.grade.grade, 'C');
    assert.ok(ids(ssl3).includes('tls.protocol.sslv3'));
    const ssl2 = report(
      parts({ tls: tlsScan({ SSLv2: ['TLS_RSA_WITH_AES_128_CBC_SHA'], ...offer12and13() }) }),
    );
    assert.equal(ssl2.grade.grade, 'F');
  });

  test('AUTH before TLS is F, whether advertised or accepted', () => {
    const offered = report(
      parts({
        smtp: smtpScan({
          authBeforeTls: { offered: ['PLAIN', 'LOGIN'], accepted: false, reply: '538 5.7.11' },
        }),
      }),
    );
    assert.equal(offered.grade.grade, 'F');
    const f = byId(offered, 'smtp.auth-before-tls');
    assert.equal(f.severity, 'critical');
    assert.match(f.fix?.postfix ?? '', /smtpd_tls_auth_only = yes/);
    const accepted = report(
      parts({ smtp: smtpScan({ authBeforeTls: { offered: [], accepted: true, reply: '334 ' } }) }),
    );
    assert.equal(accepted.grade.grade, 'F');
    assert.match(byId(accepted, 'smtp.auth-before-tls').evidence, /334/);
  });

  test('no STARTTLS on a submission port or an MX is F, reported once (no TLS findings pile on)', () => {
    for (const port of [587, 25]) {
      const r = report(
        parts({
          target: { host: 'mail.example.com', port, mode: 'starttls' },
          tls: null,
          certificate: null,
          smtp: smtpScan({
            starttlsOffered: false,
            ehloBeforeTls: ['PIPELINING', 'SIZE 1000'],
            ehloAfterTls: null,
          }),
        }),
      );
      assert.equal(r.grade.grade, 'F', `port ${port}`);
      assert.deepEqual(
        r.grade.capReasons.map((c) => c.id),
        ['smtp.starttls.missing'],
      );
      assert.ok(!ids(r).includes('tls.no-handshake'));
    }
  });

  test('a port where no handshake works is F', () => {
    const refused = tlsScan({});
    const r = report(parts({ tls: refused, certificate: null }));
    assert.equal(r.grade.grade, 'F');
    assert.ok(ids(r).includes('tls.no-handshake'));
  });

  test('STARTTLS injection, SMTP smuggling and an open relay are each F', () => {
    const injection = report(
      parts({
        smtp: smtpScan({ starttlsInjection: { vulnerable: true, evidence: '250 answered inside TLS' } }),
      }),
    );
    assert.equal(injection.grade.grade, 'F');
    assert.ok(ids(injection).includes('smtp.starttls-injection'));
    const smuggling = report(
      parts({
        smtp: smtpScan({
          smuggling: [
            { ending: '\\r\\n.\\r\\n', outcome: 'rejected', evidence: 'control' },
            { ending: '\\n.\\n', outcome: 'accepted', evidence: 'second transaction got 250' },
            { ending: '\\r.\\r', outcome: 'not-end-of-data', evidence: 'kept as data' },
          ],
        }),
      }),
    );
    assert.equal(smuggling.grade.grade, 'F');
    assert.match(byId(smuggling, 'smtp.smuggling').evidence, /\\n\.\\n/);
    const relay = report(
      mxParts({
        smtp: smtpScan({
          relay: [
            {
              from: 'a@example.com',
              to: 'b@example.org',
              reply: '554 5.7.1 Relay access denied',
              accepted: false,
            },
            { from: '<>', to: 'b@example.org', reply: '250 2.1.5 Ok', accepted: true },
          ],
        }),
      }),
    );
    assert.equal(relay.grade.grade, 'F');
    assert.ok(ids(relay).includes('smtp.open-relay'));
  });

  test('safe results of the opt-in tests are positive findings', () => {
    const r = report(
      parts({
        smtp: smtpScan({
          smuggling: [{ ending: '\\n.\\n', outcome: 'rejected', evidence: '521 bare LF' }],
          relay: [{ from: 'a@example.com', to: 'b@example.org', reply: '554 5.7.1', accepted: false }],
        }),
      }),
    );
    assert.equal(r.grade.grade, 'A+');
    assert.ok(ids(r).includes('smtp.smuggling.ok'));
    assert.ok(ids(r).includes('smtp.open-relay.ok'));
  });
});

function offer12and13() {
  return { 'TLSv1.2': STRONG_12, 'TLSv1.3': STRONG_13 } as const;
}

describe('cipher suites and key exchange', () => {
  const with12 = (extra: string[]) =>
    parts({ tls: tlsScan({ 'TLSv1.2': [...STRONG_12, ...extra], 'TLSv1.3': STRONG_13 }) });

  test('RC4 and 3DES cap at C; NULL and EXPORT at F', () => {
    assert.equal(report(with12(['TLS_RSA_WITH_RC4_128_SHA'])).grade.grade, 'C');
    assert.equal(report(with12(['TLS_RSA_WITH_3DES_EDE_CBC_SHA'])).grade.grade, 'C');
    assert.equal(report(with12(['TLS_RSA_WITH_NULL_SHA256'])).grade.grade, 'F');
    assert.equal(report(with12(['TLS_RSA_EXPORT_WITH_DES40_CBC_SHA'])).grade.grade, 'F');
  });

  test('anonymous suites are F on a submission port but C on an MX, where nobody verifies anyway', () => {
    const anon = 'TLS_DH_anon_WITH_AES_256_GCM_SHA384';
    const sub = report(with12([anon]));
    assert.equal(sub.grade.grade, 'F');
    const mx = report(mxParts({ tls: with12([anon]).tls }));
    assert.equal(mx.grade.grade, 'C');
    assert.equal(byId(mx, 'tls.cipher.anon').severity, 'high');
  });

  test('no forward secrecy at all caps at B; some static-RSA suites next to ECDHE cap at A-', () => {
    const none = report(
      parts({
        tls: tlsScan({ 'TLSv1.2': ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_AES_256_GCM_SHA384'] }),
      }),
    );
    assert.equal(none.grade.grade, 'B');
    assert.ok(ids(none).includes('tls.cipher.no-fs'));
    const some = report(with12(['TLS_RSA_WITH_AES_128_GCM_SHA256']));
    assert.equal(some.grade.grade, 'A-');
    assert.ok(ids(some).includes('tls.cipher.non-fs'));
  });

  test('no AEAD suite caps at A-; CBC next to AEAD only blocks A+', () => {
    const cbcOnly = report(parts({ tls: tlsScan({ 'TLSv1.2': ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'] }) }));
    assert.equal(cbcOnly.grade.grade, 'A-');
    assert.ok(ids(cbcOnly).includes('tls.cipher.no-aead'));
    const mixed = report(with12(['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256']));
    assert.equal(mixed.grade.grade, 'A');
    assert.ok(mixed.grade.missingForAPlus.some((m) => m.includes('tls.cipher.cbc')));
  });

  test('client order only matters while weaker suites are offered', () => {
    const pref = {
      SSLv2: null,
      SSLv3: null,
      'TLSv1.0': null,
      'TLSv1.1': null,
      'TLSv1.2': false,
      'TLSv1.3': null,
    };
    const strong = report(parts({ tls: tlsScan(offer12and13(), { serverPreference: pref }) }));
    assert.ok(!ids(strong).includes('tls.cipher.client-order'));
    const weak = report(
      parts({
        tls: tlsScan(
          { 'TLSv1.2': [...STRONG_12, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'] },
          { serverPreference: pref },
        ),
      }),
    );
    assert.equal(byId(weak, 'tls.cipher.client-order').severity, 'low');
  });

  test('DH parameters below 2048 bits cap at B, below 1024 at F', () => {
    const dhe = ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'];
    assert.equal(report(with12(dhe)).grade.grade, 'A+');
    const small = report(
      parts({ tls: tlsScan({ 'TLSv1.2': dhe, 'TLSv1.3': STRONG_13 }, { dhBits: [1024] }) }),
    );
    assert.equal(small.grade.grade, 'B');
    const tiny = report(parts({ tls: tlsScan({ 'TLSv1.2': dhe, 'TLSv1.3': STRONG_13 }, { dhBits: [512] }) }));
    assert.equal(tiny.grade.grade, 'F');
    assert.match(byId(tiny, 'tls.kx.dh-small').title, /Logjam/);
  });

  test('no secure renegotiation caps at A-, compression at C, no fallback SCSV only blocks A+', () => {
    assert.equal(
      report(parts({ tls: tlsScan(offer12and13(), { secureRenegotiation: false }) })).grade.grade,
      'A-',
    );
    assert.equal(report(parts({ tls: tlsScan(offer12and13(), { compression: true }) })).grade.grade, 'C');
    const scsv = report(parts({ tls: tlsScan(offer12and13(), { fallbackScsv: false }) }));
    assert.equal(scsv.grade.grade, 'A');
    assert.equal(byId(scsv, 'tls.fallback-scsv.missing').severity, 'low');
  });

  test("Debian Postfix's defaults on port 25 grade C (anonymous suites), with TLS 1.0/1.1 and the self-signed cert listed", () => {
    const r = report(postfixDefaults());
    assert.equal(r.grade.grade, 'C');
    assert.deepEqual(
      r.grade.capReasons.map((c) => c.id),
      [
        'tls.cipher.anon',
        'tls.protocol.tls10',
        'tls.protocol.tls11',
        'cert.self-signed',
        'tls.cipher.non-fs',
      ],
    );
    assert.ok(ids(r).includes('smtp.vrfy'));
    assert.ok(ids(r).includes('tls.cipher.client-order'));
  });
});

describe('certificates: port 25 without DANE/MTA-STS is opportunistic', () => {
  test('self-signed on port 25 without policy caps at B; on 587 at F', () => {
    const mx = report(mxParts({ certificate: selfSignedCert() }));
    assert.equal(mx.grade.grade, 'B');
    const f = byId(mx, 'cert.self-signed');
    assert.equal(f.severity, 'medium');
    assert.match(f.evidence, /opportunistic|do not verify/);
    assert.ok(!ids(mx).includes('cert.untrusted'), 'self-signed is not also reported as untrusted');
    const sub = report(parts({ certificate: selfSignedCert() }));
    assert.equal(sub.grade.grade, 'F');
    assert.equal(byId(sub, 'cert.self-signed').severity, 'critical');
  });

  test('an MX under MTA-STS enforce is verified like a submission port: self-signed is F', () => {
    const r = report(mxParts({ certificate: selfSignedCert(), dns: dnsPolicy() }));
    assert.equal(r.grade.grade, 'F');
    assert.match(byId(r, 'cert.self-signed').evidence, /MTA-STS/);
  });

  test('matching DNSSEC DANE-EE records make a self-signed MX certificate fine (A+ with --domain)', () => {
    const dns = dnsPolicy({
      mtaSts: { record: null, policy: null, mxMatched: {}, errors: [] },
      dane: [{ mx: 'mail.example.com', records: [DANE_EE], authenticated: true, matches: true, errors: [] }],
    });
    const r = report(mxParts({ certificate: selfSignedCert(), dns }));
    assert.equal(byId(r, 'cert.self-signed').severity, 'info');
    assert.ok(ids(r).includes('dns.dane.valid'));
    assert.equal(byId(r, 'dns.mta-sts.missing').severity, 'info');
    assert.equal(r.grade.grade, 'A+');
    assert.deepEqual(r.grade.capReasons, []);
  });

  test('DANE records that do not match are F; without DNSSEC they are ignored (medium, no cap)', () => {
    const mismatch = dnsPolicy({
      dane: [{ mx: 'mail.example.com', records: [DANE_EE], authenticated: true, matches: false, errors: [] }],
    });
    const r = report(mxParts({ dns: mismatch }));
    assert.equal(r.grade.grade, 'F');
    const fix = byId(r, 'dns.dane.mismatch').fix?.summary ?? '';
    assert.match(fix, /_25\._tcp\.mail\.example\.com\. IN TLSA 3 1 1 (07){32}/);
    const unsigned = dnsPolicy({
      dane: [{ mx: 'mail.example.com', records: [DANE_EE], authenticated: false, matches: true, errors: [] }],
    });
    const u = report(mxParts({ dns: unsigned }));
    assert.equal(byId(u, 'dns.dane.unauthenticated').severity, 'medium');
    assert.equal(byId(u, 'dns.dane.unauthenticated').cap, undefined);
  });

  test('expired: F on submission, B on a plain MX; not yet valid alike; expiring soon is a warning', () => {
    const expired = certCheck(
      { trusted: false, verifyError: 'CERT_HAS_EXPIRED' },
      { daysLeft: -3, validTo: '2025-05-29T00:00:00.000Z' },
    );
    assert.equal(report(parts({ certificate: expired })).grade.grade, 'F');
    const mx = report(mxParts({ certificate: expired }));
    assert.equal(mx.grade.grade, 'B');
    assert.ok(!ids(mx).includes('cert.untrusted'));
    const future = certCheck(
      { trusted: false, verifyError: 'CERT_NOT_YET_VALID' },
      { validFrom: '2025-07-01T00:00:00.000Z' },
    );
    assert.equal(report(parts({ certificate: future })).grade.grade, 'F');
    assert.ok(ids(report(parts({ certificate: future }))).includes('cert.not-yet-valid'));
    const soon = report(parts({ certificate: certCheck({}, { daysLeft: 12 }) }));
    assert.equal(soon.grade.grade, 'A');
    assert.equal(byId(soon, 'cert.expiring').title, 'The certificate expires in 12 days');
  });

  test('an expired extra cross-sign in a chain that validates is not an expired certificate', () => {
    const good = certCheck();
    const crossSigned = {
      ...good,
      chain: [
        ...good.chain,
        { ...good.chain[1]!, subject: 'CN=ISRG Root X1', daysLeft: -400, selfSigned: false },
      ],
    };
    const r = report(parts({ certificate: crossSigned }));
    assert.ok(!ids(r).includes('cert.expired'));
    assert.equal(r.grade.grade, 'A+');
  });

  test('name mismatch and an untrusted chain: F on submission, B on a plain MX', () => {
    const wrongName = certCheck({ nameMatches: false, namesMatched: [] });
    const r = report(parts({ certificate: wrongName }));
    assert.equal(r.grade.grade, 'F');
    assert.match(byId(r, 'cert.name-mismatch').evidence, /mail\.example\.com, smtp\.example\.com/);
    assert.equal(report(mxParts({ certificate: wrongName })).grade.grade, 'B');
    const privateCa = certCheck({ trusted: false, verifyError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
    const u = report(parts({ certificate: privateCa }));
    assert.equal(u.grade.grade, 'F');
    assert.match(byId(u, 'cert.untrusted').evidence, /UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });

  test('small RSA keys and SHA-1/MD5 signatures', () => {
    const rsa1024 = certCheck(
      {},
      { keyType: 'rsa', keyBits: 1024, signatureAlgorithm: 'sha256WithRSAEncryption' },
    );
    assert.equal(report(parts({ certificate: rsa1024 })).grade.grade, 'C');
    const rsa512 = certCheck({}, { keyType: 'rsa', keyBits: 512 });
    assert.equal(report(parts({ certificate: rsa512 })).grade.grade, 'F');
    const sha1 = certCheck({}, { signatureAlgorithm: 'sha1WithRSAEncryption' });
    assert.equal(report(parts({ certificate: sha1 })).grade.grade, 'C');
    assert.ok(ids(report(parts({ certificate: sha1 }))).includes('cert.signature-sha1'));
    const md5 = certCheck({}, { signatureAlgorithm: 'md5WithRSAEncryption' });
    assert.equal(report(parts({ certificate: md5 })).grade.grade, 'F');
  });

  test('a pin that does not match is F', () => {
    const r = report(parts({ certificate: certCheck({ pinMatches: false }) }));
    assert.equal(r.grade.grade, 'F');
    assert.ok(ids(report(parts({ certificate: certCheck({ pinMatches: true }) }))).includes('cert.pin'));
  });
});

describe('DNS policy with --domain', () => {
  test('A+ with --domain needs MTA-STS enforce or DANE', () => {
    assert.equal(report(parts({ dns: dnsPolicy() })).grade.grade, 'A+');
    const bare = report(parts({ dns: bareDns() }));
    assert.equal(bare.grade.grade, 'A');
    assert.ok(bare.grade.missingForAPlus.some((m) => m.includes('MTA-STS')));
    assert.equal(byId(bare, 'dns.mta-sts.missing').severity, 'medium');
    assert.equal(byId(bare, 'dns.tls-rpt.missing').severity, 'low');
    assert.equal(byId(bare, 'dns.dane.absent').severity, 'info');
  });

  test('MTA-STS testing, none, short max_age and a broken policy', () => {
    const testing = dnsPolicy();
    const t = report(
      parts({
        dns: {
          ...testing,
          mtaSts: { ...testing.mtaSts, policy: { mode: 'testing', mx: ['mail.example.com'], maxAge: 3600 } },
        },
      }),
    );
    assert.equal(byId(t, 'dns.mta-sts.testing').severity, 'low');
    assert.ok(ids(t).includes('dns.mta-sts.max-age'));
    assert.equal(t.grade.grade, 'A');
    const none = report(
      parts({
        dns: { ...testing, mtaSts: { ...testing.mtaSts, policy: { mode: 'none', mx: [], maxAge: 86400 } } },
      }),
    );
    assert.ok(ids(none).includes('dns.mta-sts.none'));
    const broken = report(
      parts({
        dns: {
          ...testing,
          mtaSts: { ...testing.mtaSts, policy: null, errors: ['HTTPS fetch failed: certificate expired'] },
        },
      }),
    );
    assert.match(byId(broken, 'dns.mta-sts.invalid').evidence, /certificate expired/);
  });

  test('an MX outside an enforce policy is F (MTA-STS senders will not deliver there)', () => {
    const base = dnsPolicy();
    const dns = {
      ...base,
      mx: [...base.mx, { preference: 20, exchange: 'backup.example.net' }],
      mtaSts: { ...base.mtaSts, mxMatched: { 'mail.example.com': true, 'backup.example.net': false } },
    };
    const r = report(mxParts({ dns }));
    assert.equal(r.grade.grade, 'F');
    assert.match(byId(r, 'dns.mta-sts.mx-mismatch').evidence, /backup\.example\.net/);
  });

  test('TLS-RPT without rua, TLSA usage 0/1 only, and lookup errors', () => {
    const base = dnsPolicy();
    const r = report(
      mxParts({
        dns: {
          ...base,
          tlsRpt: { record: 'v=TLSRPTv1;', rua: [], errors: [] },
          dane: [
            {
              mx: 'mail.example.com',
              records: [{ usage: 1, selector: 1, matchingType: 1, data: 'aa' }],
              authenticated: true,
              matches: true,
              errors: ['SERVFAIL for _25._tcp.backup'],
            },
          ],
        },
      }),
    );
    assert.ok(ids(r).includes('dns.tls-rpt.invalid'));
    assert.ok(ids(r).includes('dns.dane.unusable-usage'));
    assert.ok(ids(r).includes('dns.dane.error'));
    const noMx = report(parts({ dns: { ...base, mx: [] } }));
    assert.ok(ids(noMx).includes('dns.mx.missing'));
  });
});

describe('grade arithmetic and ordering', () => {
  test('the worst cap wins and is listed first; findings are most severe first', () => {
    const r = report(hostileParts());
    assert.equal(r.grade.grade, 'F');
    const order = ['critical', 'high', 'medium', 'low', 'info', 'ok'];
    const ranks = r.findings.map((f) => order.indexOf(f.severity));
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
    );
    assert.equal(r.grade.capReasons[0]?.cap, 'F');
    assert.equal(worseGrade('A-', 'B'), 'B');
    assert.equal(worseGrade('F', 'A+'), 'F');
    assert.equal(gradeFindings([]).grade, 'A');
  });

  test('roles: port 25 is an MX, everything else is graded as submission unless told', () => {
    assert.equal(roleOfPort(25), 'mx');
    assert.equal(roleOfPort(587), 'submission');
    assert.equal(roleOfPort(2525), 'submission');
    const asMx = report(parts({ role: 'mx', certificate: selfSignedCert() }));
    assert.equal(asMx.target.role, 'mx');
    assert.equal(asMx.grade.grade, 'B');
  });

  test('a failed TLS scan with a working certificate check says the grade is incomplete', () => {
    const r = report(
      parts({ tls: null, errors: [{ probe: 'tls', code: 'ETIMEOUT', message: 'timed out' }] }),
    );
    assert.ok(ids(r).includes('tls.scan-incomplete'));
    assert.notEqual(r.grade.grade, 'A+');
  });

  test('implicit TLS targets skip the plaintext checks', () => {
    const f = deriveFindings({
      target: { host: 'mail.example.com', port: 465, mode: 'implicit' },
      tls: tlsScan(),
      certificate: certCheck(),
      smtp: smtpScan({ ehloBeforeTls: null, starttlsOffered: null, starttlsInjection: { vulnerable: null } }),
    });
    assert.ok(!f.some((x) => x.id.startsWith('smtp.starttls') || x.id.startsWith('smtp.auth')));
    assert.equal(gradeFindings(f).grade, 'A+');
  });
});

test('every finding id the fixtures produce is documented in docs/audit-grading.md', () => {
  assert.ok(recorder.seen.size > 50, `only ${recorder.seen.size} ids seen`);
  assert.deepEqual(recorder.undocumented(), []);
});
