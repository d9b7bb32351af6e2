// What a probe that failed does to the grade: it never leaves the target looking better than what was tested.
// A missing certificate check, SMTP scan or protocol scan caps at A- (docs/audit-grading.md, "Incomplete
// audits"); "not offered" is said only of a version that was refused, "not tested" of one that got no answer.
// Also: the relay test's untested attempts and local source, and the fix texts the reviewer corrected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditReport, ReportParts } from '../../../src/audit/report.js';
import { FIXES } from '../../../src/audit/rules/fixes.js';
import type { ProtocolName, RelayResult, TlsScanResult } from '../../../src/audit/types.js';
import { PROTOCOLS } from '../../../src/audit/types.js';
import {
  findingById,
  findingIds,
  mxParts,
  parts,
  ReportRecorder,
  STRONG_12,
  STRONG_13,
  smtpScan,
  tlsScan,
} from './report-fixtures.js';

const recorder = new ReportRecorder();
const report = (p: ReportParts): AuditReport => recorder.report(p);
const ids = findingIds;
const byId = findingById;

/** A scan whose verdicts are given per protocol (the rest refused), with no suites: what a failed scan returns. */
function verdicts(protocols: Partial<Record<ProtocolName, boolean | null>>): TlsScanResult {
  const base = tlsScan({});
  return {
    ...base,
    protocols: Object.fromEntries(PROTOCOLS.map((p) => [p, p in protocols ? protocols[p] : false])) as Record<
      ProtocolName,
      boolean | null
    >,
    fallbackScsv: null,
    secureRenegotiation: null,
    compression: null,
  };
}

const ALL_NULL = verdicts(Object.fromEntries(PROTOCOLS.map((p) => [p, null])));

/** A relay attempt the scan could not finish: `accepted` is null (not tested). */
function untestedAttempt(reply: string): RelayResult {
  return { from: 'a@example.com', to: 'b@example.org', reply, accepted: null };
}

describe('a probe that fails lowers the grade', () => {
  test('no certificate check: cert.incomplete caps at A- (no A+ for an unchecked certificate)', () => {
    const r = report(
      parts({
        certificate: null,
        errors: [{ probe: 'certificate', code: 'ETIMEOUT', message: 'timed out' }],
      }),
    );
    assert.equal(r.grade.grade, 'A-');
    const f = byId(r, 'cert.incomplete');
    assert.equal(f.severity, 'medium');
    assert.equal(f.cap, 'A-');
    assert.deepEqual(
      r.grade.capReasons.map((c) => c.id),
      ['cert.incomplete'],
    );
    // Without STARTTLS there is no certificate to miss, and without any handshake tls.no-handshake says it all.
    const noStarttls = report(
      parts({ certificate: null, tls: null, smtp: smtpScan({ starttlsOffered: false }) }),
    );
    assert.ok(!ids(noStarttls).includes('cert.incomplete'), ids(noStarttls).join(', '));
    const noHandshake = report(parts({ certificate: null, tls: tlsScan({}) }));
    assert.deepEqual(
      ids(noHandshake).filter((id) => id.startsWith('cert.') || id.startsWith('tls.')),
      ['tls.no-handshake'],
    );
  });

  test('no SMTP scan: smtp.incomplete caps at A- (AUTH before TLS and STARTTLS went unchecked)', () => {
    const r = report(
      parts({ smtp: null, errors: [{ probe: 'smtp', code: 'ETIMEOUT', message: 'timed out' }] }),
    );
    assert.equal(r.grade.grade, 'A-');
    const f = byId(r, 'smtp.incomplete');
    assert.equal(f.cap, 'A-');
    assert.match(f.evidence, /AUTH before TLS/);
    assert.match(f.evidence, /STARTTLS command injection/);
    const implicit = report(
      parts({ target: { host: 'mail.example.com', port: 465, mode: 'implicit' }, smtp: null }),
    );
    assert.equal(implicit.grade.grade, 'A-');
    assert.ok(ids(implicit).includes('smtp.incomplete'));
  });

  test('SMTP checks without a verdict: AUTH before TLS or STARTTLS injection untested caps at A-', () => {
    const auth = report(
      parts({
        smtp: smtpScan({
          authBeforeTls: { offered: [], accepted: null, reply: '454 4.7.0 try again later' },
        }),
      }),
    );
    assert.equal(auth.grade.grade, 'A-');
    assert.match(byId(auth, 'smtp.incomplete').evidence, /AUTH before TLS \(454 4\.7\.0 try again later\)/);
    const injection = report(
      parts({
        smtp: smtpScan({
          starttlsInjection: { vulnerable: null, evidence: 'could not run the test: connection reset' },
        }),
      }),
    );
    assert.equal(injection.grade.grade, 'A-');
    assert.match(byId(injection, 'smtp.incomplete').evidence, /STARTTLS command injection/);
    // STARTTLS not offered: the injection test has nothing to test, and smtp.starttls.missing already fails it.
    const missing = report(
      parts({
        smtp: smtpScan({
          starttlsOffered: false,
          starttlsInjection: { vulnerable: null, evidence: 'STARTTLS is not offered' },
        }),
        tls: null,
        certificate: null,
      }),
    );
    assert.ok(!ids(missing).includes('smtp.incomplete'), ids(missing).join(', '));
    // Implicit TLS has no plaintext side: null there is "not applicable", not "untested".
    const implicit = report(
      parts({
        target: { host: 'mail.example.com', port: 465, mode: 'implicit' },
        smtp: smtpScan({
          ehloBeforeTls: null,
          starttlsOffered: null,
          authBeforeTls: { offered: [], accepted: null },
          starttlsInjection: { vulnerable: null, evidence: 'not applicable: implicit TLS' },
        }),
      }),
    );
    assert.equal(implicit.grade.grade, 'A+');
  });

  test('a TLS scan that tested nothing, next to a working certificate check, is incomplete, not "TLS 1.3 is not offered"', () => {
    const r = report(parts({ tls: ALL_NULL }));
    assert.equal(r.grade.grade, 'A-');
    const f = byId(r, 'tls.scan-incomplete');
    assert.equal(f.cap, 'A-');
    assert.match(f.evidence, /could test no protocol version/);
    assert.match(f.evidence, /negotiated TLSv1\.3/);
    assert.ok(!ids(r).includes('tls.protocol.no-tls13'));
    // A scan that failed outright caps the same way.
    const failed = report(parts({ tls: null }));
    assert.equal(failed.grade.grade, 'A-');
    assert.equal(byId(failed, 'tls.scan-incomplete').cap, 'A-');
  });

  test('an untested TLS 1.3 is "not tested" in missingForAPlus; a refused one is "not offered"', () => {
    const untested = report(parts({ tls: tlsScan({ 'TLSv1.2': STRONG_12 }) }));
    assert.deepEqual(untested.grade.missingForAPlus.slice(0, 1), ['TLS 1.3 is not offered']);
    const scan = tlsScan({ 'TLSv1.2': STRONG_12 });
    const r = report(parts({ tls: { ...scan, protocols: { ...scan.protocols, 'TLSv1.3': null } } }));
    assert.equal(r.grade.grade, 'A');
    assert.ok(r.grade.missingForAPlus.includes('TLS 1.3 was not tested'), r.grade.missingForAPlus.join('; '));
    assert.ok(!r.grade.missingForAPlus.includes('TLS 1.3 is not offered'));
    const f = byId(r, 'tls.protocol.untested');
    assert.equal(f.severity, 'low');
    assert.equal(f.cap, undefined);
  });

  test('an untested legacy version might have capped the grade: medium, A-; and no "neither TLS 1.2 nor 1.3"', () => {
    const scan = tlsScan({ 'TLSv1.2': STRONG_12, 'TLSv1.3': STRONG_13 });
    const r = report(parts({ tls: { ...scan, protocols: { ...scan.protocols, SSLv3: null } } }));
    assert.equal(r.grade.grade, 'A-');
    const f = byId(r, 'tls.protocol.untested');
    assert.equal(f.severity, 'medium');
    assert.match(f.evidence, /SSLv3/);
    // TLS 1.0 accepted, TLS 1.2 untested, TLS 1.3 refused: that TLS 1.2 is missing is not known.
    const old = tlsScan({ 'TLSv1.0': STRONG_12 });
    const partial = report(parts({ tls: { ...old, protocols: { ...old.protocols, 'TLSv1.2': null } } }));
    assert.ok(!ids(partial).includes('tls.protocol.no-tls12'), ids(partial).join(', '));
    assert.equal(partial.grade.grade, 'B');
  });

  test('a null fallback SCSV next to TLS 1.3 costs nothing: A+', () => {
    const r = report(
      parts({ tls: tlsScan({ 'TLSv1.2': STRONG_12, 'TLSv1.3': STRONG_13 }, { fallbackScsv: null }) }),
    );
    assert.equal(r.grade.grade, 'A+');
  });
});

describe('tls.no-handshake says what happened', () => {
  test('every version refused', () => {
    const r = report(parts({ tls: tlsScan({}), certificate: null }));
    assert.match(byId(r, 'tls.no-handshake').evidence, /refused every protocol version/);
  });

  test('nothing tested on a STARTTLS port: not "refused", and the CLI flag that forces implicit TLS', () => {
    const r = report(parts({ tls: ALL_NULL, certificate: null }));
    assert.equal(r.grade.grade, 'F');
    const evidence = byId(r, 'tls.no-handshake').evidence;
    assert.doesNotMatch(evidence, /refused every/);
    assert.match(evidence, /No protocol version could be tested/);
    assert.match(evidence, /--tls\b/);
    assert.doesNotMatch(evidence, /tls: '/);
  });

  test('some refused, the rest untested, on an implicit-TLS port: both named, and --starttls suggested', () => {
    const r = report(
      parts({
        target: { host: 'mail.example.com', port: 2465, mode: 'implicit' },
        tls: verdicts({ SSLv3: null, 'TLSv1.0': null, 'TLSv1.1': null, 'TLSv1.2': null, 'TLSv1.3': null }),
        certificate: null,
      }),
    );
    const evidence = byId(r, 'tls.no-handshake').evidence;
    assert.match(
      evidence,
      /SSLv2 was refused; SSLv3, TLSv1\.0, TLSv1\.1, TLSv1\.2 and TLSv1\.3 could not be tested/,
    );
    assert.match(evidence, /--starttls/);
  });
});

describe('the relay test', () => {
  const relayed = { from: '<>', to: 'b@example.org', reply: '250 2.1.5 Ok', accepted: true };
  const refused = {
    from: 'a@example.com',
    to: 'b@example.org',
    reply: '554 5.7.1 Relay access denied',
    accepted: false,
  };

  test('an attempt that was not tested is no refusal: no open-relay.ok, an info finding instead', () => {
    const r = report(mxParts({ smtp: smtpScan({ relay: [refused, untestedAttempt('connection reset')] }) }));
    assert.ok(!ids(r).includes('smtp.open-relay.ok'), ids(r).join(', '));
    const f = byId(r, 'smtp.open-relay.untested');
    assert.equal(f.severity, 'info');
    assert.match(f.evidence, /connection reset/);
    const none = report(mxParts({ smtp: smtpScan({ relay: [] }) }));
    assert.ok(ids(none).includes('smtp.open-relay.untested'));
    assert.ok(!ids(none).includes('smtp.open-relay.ok'));
    const all = report(mxParts({ smtp: smtpScan({ relay: [refused, refused] }) }));
    assert.ok(ids(all).includes('smtp.open-relay.ok'));
    assert.ok(!ids(all).includes('smtp.open-relay.untested'));
  });

  test('relayed from a loopback or private address: a warning without the F cap; from outside: F', () => {
    for (const relaySource of ['loopback', 'private'] as const) {
      const r = report(mxParts({ smtp: smtpScan({ relay: [refused, relayed], relaySource }) }));
      const f = byId(r, 'smtp.open-relay');
      assert.equal(f.severity, 'medium');
      assert.equal(f.cap, undefined);
      assert.match(f.evidence, /run the relay test from an outside host/);
      assert.equal(r.grade.grade, 'A', relaySource);
    }
    assert.equal(
      report(mxParts({ smtp: smtpScan({ relay: [relayed], relaySource: 'public' }) })).grade.grade,
      'F',
    );
    assert.equal(report(mxParts({ smtp: smtpScan({ relay: [relayed] }) })).grade.grade, 'F');
  });
});

describe('fix texts', () => {
  test("Postfix's implicit-TLS service is submissions; its DH prime is 2048 bits since 3.1; Exim's VRFY fix names no missing ACL", () => {
    assert.match(
      FIXES.handshake.postfix,
      /master\.cf service submissions \(465; older master\.cf files call it smtps\)/,
    );
    assert.match(FIXES.dhParams.postfix, /2048 bits since Postfix 3\.1/);
    assert.doesNotMatch(FIXES.dhParams.postfix, /3\.7 defaults to 2048/);
    assert.doesNotMatch(FIXES.vrfy.exim, /acl_deny/);
    assert.match(FIXES.vrfy.exim, /acl_smtp_vrfy and acl_smtp_expn unset/);
    // Used where a report shows it: the no-handshake finding carries the corrected Postfix line.
    const r = report(parts({ tls: tlsScan({}), certificate: null }));
    assert.match(byId(r, 'tls.no-handshake').fix?.postfix ?? '', /submissions/);
  });
});

test('every finding id these tests produce is documented in docs/audit-grading.md', () => {
  assert.deepEqual(recorder.undocumented(), []);
});
