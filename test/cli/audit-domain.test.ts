// `postern audit --domain` as a user runs it: the real process against a python3-dnslib zone (MX, MTA-STS,
// TLS-RPT, DNSSEC-flagged TLSA), a loopback HTTPS server for the MTA-STS policy, and Postern's own server as the
// MX (STARTTLS). Checks the JSON against docs/audit-domain-report.schema.json, the findings and grades of a
// complete policy, a missing one and a mismatching TLSA record, and the text and HTML reports.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createCertificate } from '../../src/tls/certificates.js';
import { type TestPki, testPki } from '../helpers/certs.js';
import { type DnsServerInstance, startDnsServer } from '../helpers/dns-server.js';
import { peerSkip } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { type PolicyServer, servePolicy, startPolicyServer } from '../integration/audit/dns-fixtures.js';
import { startServer, type TestServer } from '../integration/server/harness.js';
import { ROOT, runCli } from './cli.js';

const readSchema = async (name: string) =>
  JSON.parse(await readFile(join(ROOT, 'docs', name), 'utf8')) as object;
const ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: true });
ajv.addSchema(await readSchema('audit-report.schema.json'));
const validate = ajv.compile(await readSchema('audit-domain-report.schema.json'));

interface Finding {
  id: string;
  severity: string;
  cap?: string;
  fix?: { summary: string };
}

interface DomainReport {
  domain: string;
  dns: {
    mx: { preference: number; exchange: string }[];
    mxAuthenticated?: boolean;
    errors?: string[];
    mtaSts: {
      record: string | null;
      id?: string;
      policy: { mode: string; mx: string[]; maxAge: number } | null;
      mxMatched: Record<string, boolean>;
      errors: string[];
    };
    tlsRpt: { record: string | null; rua: string[]; errors: string[] };
    dane: {
      mx: string;
      records: { usage: number; selector: number; matchingType: number; data: string }[];
      authenticated: boolean;
      matches: boolean | null;
      errors: string[];
    }[];
  };
  reports: {
    target: { host: string; port: number; mode: string; servername: string | null; role: string };
    certificate: { trusted: boolean; nameMatches: boolean; chain: { spkiSha256: string }[] } | null;
    findings: Finding[];
    grade: { grade: string; capReasons: { id: string; cap: string }[]; missingForAPlus: string[] };
  }[];
  unreachable: { host: string; port: number; error: string }[];
  grade: string;
}

const POLICY = 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmax_age: 604800\r\n';

/** Hex SHA-256 of a certificate's SubjectPublicKeyInfo: the data of a TLSA 3 1 1 record. */
function spkiSha256(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

function parseDomainReport(stdout: string): DomainReport {
  const report = JSON.parse(stdout) as DomainReport;
  assert.ok(validate(report), JSON.stringify(validate.errors, null, 2));
  return report;
}

const ids = (r: DomainReport['reports'][number]) => r.findings.map((f) => f.id);
const findingOf = (r: DomainReport['reports'][number], id: string) => r.findings.find((f) => f.id === id);

describe('postern audit --domain', { skip: peerSkip('dnslib') }, () => {
  let home: string;
  let pki: TestPki;
  let mx: TestServer;
  let policy: PolicyServer;
  let dns: DnsServerInstance;
  /** TLSA 3 1 1 data of the MX certificate. */
  let presentedSpki: string;

  before(async () => {
    home = await tempDir('postern-audit-domain-');
    pki = await testPki();
    // One MX certificate from the test CA covers every MX name the zone uses; all of them are this server.
    const leaf = await createCertificate({
      commonName: 'mx1.example.test',
      altNames: ['mx1.example.test', 'mx2.example.test', 'mx3.example.test'],
      issuer: { cert: pki.caCert, key: pki.caKey },
    });
    presentedSpki = spkiSha256(leaf.cert);
    [mx, policy] = await Promise.all([
      startServer({
        hostname: 'mx1.example.test',
        tls: { cert: leaf.cert, key: leaf.key },
        // 0: the MX (STARTTLS); 1: implicit TLS, standing in for 465 with --submission.
        endpoints: [
          { port: 0, tls: 'starttls' },
          { port: 0, tls: 'implicit' },
        ],
      }),
      startPolicyServer(servePolicy(POLICY)),
    ]);
    dns = await startDnsServer({
      records: [
        // example.test: MTA-STS enforce, TLS-RPT and a matching DANE-EE record, all DNSSEC-flagged.
        'example.test. 300 IN MX 10 mx1.example.test.',
        'mx1.example.test. 300 IN A 127.0.0.1',
        '_mta-sts.example.test. 300 IN TXT "v=STSv1; id=20250101T000000"',
        'mta-sts.example.test. 300 IN A 127.0.0.1',
        '_smtp._tls.example.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"',
        `_25._tcp.mx1.example.test. 300 IN TLSA 3 1 1 ${presentedSpki}`,
        // plain.test: no MTA-STS, no TLS-RPT, no TLSA.
        'plain.test. 300 IN MX 10 mx3.example.test.',
        'mx3.example.test. 300 IN A 127.0.0.1',
        // broken.test: a signed TLSA record for another key (the test PKI's localhost certificate).
        'broken.test. 300 IN MX 10 mx2.example.test.',
        'mx2.example.test. 300 IN A 127.0.0.1',
        `_25._tcp.mx2.example.test. 300 IN TLSA 3 1 1 ${spkiSha256(pki.serverCert)}`,
      ],
      authenticated: [
        'example.test',
        '_25._tcp.mx1.example.test',
        'broken.test',
        'plain.test',
        '_25._tcp.mx2.example.test',
      ],
    });
  });
  after(async () => {
    await Promise.all([dns?.stop(), policy?.close(), mx?.close()]);
  });

  /** `postern audit --domain DOMAIN` against the loopback zone, MX and policy server. */
  const audit = (domain: string, ...extra: string[]) =>
    runCli(
      [
        'audit',
        '--domain',
        domain,
        '--resolver',
        dns.address,
        '--mta-sts-ca',
        pki.caFile,
        '--mta-sts-port',
        String(policy.port),
        '--mx-port',
        String(mx.port()),
        '--ca',
        pki.caFile,
        ...extra,
      ],
      { home },
    );

  test('a complete policy: MX, MTA-STS enforce, TLS-RPT and matching DANE; the MX graded A+', async () => {
    const run = await audit('example.test', '--json');
    assert.equal(run.code, 0, run.stderr);
    const r = parseDomainReport(run.stdout);
    assert.equal(r.domain, 'example.test');
    assert.deepEqual(r.dns.mx, [{ preference: 10, exchange: 'mx1.example.test' }]);
    assert.equal(r.dns.mxAuthenticated, true);
    assert.deepEqual(r.dns.errors, []);
    assert.deepEqual(r.dns.mtaSts, {
      record: 'v=STSv1; id=20250101T000000',
      id: '20250101T000000',
      policy: { mode: 'enforce', mx: ['mx1.example.test'], maxAge: 604800 },
      mxMatched: { 'mx1.example.test': true },
      errors: [],
    });
    assert.ok(policy.requests.includes('GET /.well-known/mta-sts.txt host=mta-sts.example.test'));
    assert.deepEqual(r.dns.tlsRpt, {
      record: 'v=TLSRPTv1; rua=mailto:tlsrpt@example.test',
      rua: ['mailto:tlsrpt@example.test'],
      errors: [],
    });
    assert.deepEqual(r.dns.dane, [
      {
        mx: 'mx1.example.test',
        records: [{ usage: 3, selector: 1, matchingType: 1, data: presentedSpki }],
        authenticated: true,
        matches: true,
        errors: [],
      },
    ]);

    assert.deepEqual(r.unreachable, []);
    assert.equal(r.reports.length, 1);
    const [report] = r.reports;
    assert.ok(report);
    assert.deepEqual(report.target, {
      host: '127.0.0.1',
      port: mx.port(),
      mode: 'starttls',
      servername: 'mx1.example.test',
      role: 'mx',
    });
    assert.equal(report.certificate?.trusted, true);
    assert.equal(report.certificate?.nameMatches, true);
    // The TLSA record matched the key the MX really presented.
    const leafSpki = report.certificate?.chain[0]?.spkiSha256 ?? '';
    assert.equal(Buffer.from(leafSpki, 'base64').toString('hex'), presentedSpki);
    for (const id of ['dns.mta-sts.enforce', 'dns.tls-rpt.ok', 'dns.dane.valid']) {
      assert.equal(findingOf(report, id)?.severity, 'ok', id);
    }
    const dnsWarnings = report.findings.filter((f) => f.id.startsWith('dns.') && f.severity !== 'ok');
    assert.deepEqual(dnsWarnings, []);
    assert.equal(report.grade.grade, 'A+', JSON.stringify(report.grade));
    assert.equal(r.grade, 'A+');
  });

  test('no MTA-STS, TLS-RPT or TLSA: findings without a cap, no A+; a mismatching TLSA record: F', async () => {
    const [plainRun, brokenRun] = await Promise.all([
      audit('plain.test', '--json'),
      audit('broken.test', '--json'),
    ]);
    assert.equal(plainRun.code, 0, plainRun.stderr);
    assert.equal(brokenRun.code, 0, brokenRun.stderr);

    const plain = parseDomainReport(plainRun.stdout);
    assert.deepEqual(plain.dns.mtaSts, { record: null, policy: null, mxMatched: {}, errors: [] });
    assert.deepEqual(plain.dns.tlsRpt, { record: null, rua: [], errors: [] });
    assert.deepEqual(plain.dns.dane, [
      { mx: 'mx3.example.test', records: [], authenticated: false, matches: null, errors: [] },
    ]);
    const [plainReport] = plain.reports;
    assert.ok(plainReport);
    assert.equal(plainReport.certificate?.nameMatches, true);
    const expected = {
      'dns.mta-sts.missing': 'medium',
      'dns.tls-rpt.missing': 'low',
      'dns.dane.absent': 'info',
    };
    for (const [id, severity] of Object.entries(expected)) {
      const f = findingOf(plainReport, id);
      assert.equal(f?.severity, severity, id);
      assert.equal(f?.cap, undefined, `${id} caps nothing`);
      assert.ok(f?.fix?.summary, `${id} has a fix`);
    }
    // The DANE fix names the record for the key this MX presents.
    assert.ok(
      findingOf(plainReport, 'dns.dane.absent')?.fix?.summary.includes(
        `_25._tcp.mx3.example.test. IN TLSA 3 1 1 ${presentedSpki}`,
      ),
    );
    // docs/audit-grading.md: no cap, but A+ needs MTA-STS enforce or DANE (and no warning at all).
    assert.equal(plainReport.grade.grade, 'A', JSON.stringify(plainReport.grade));
    assert.deepEqual(plainReport.grade.capReasons, []);
    assert.ok(
      plainReport.grade.missingForAPlus.some((m) => /MTA-STS/.test(m) && /DANE/.test(m)),
      plainReport.grade.missingForAPlus.join('; '),
    );
    assert.equal(plain.grade, 'A');

    const broken = parseDomainReport(brokenRun.stdout);
    const [dane] = broken.dns.dane;
    assert.equal(dane?.mx, 'mx2.example.test');
    assert.equal(dane?.authenticated, true);
    assert.equal(dane?.matches, false);
    assert.match(dane?.errors.join('\n') ?? '', /no TLSA record matches the certificate chain/);
    const [brokenReport] = broken.reports;
    assert.ok(brokenReport);
    assert.ok(ids(brokenReport).includes('dns.mta-sts.missing'));
    const mismatch = findingOf(brokenReport, 'dns.dane.mismatch');
    assert.equal(mismatch?.severity, 'critical');
    assert.equal(mismatch?.cap, 'F');
    assert.ok(mismatch?.fix?.summary.includes(`_25._tcp.mx2.example.test. IN TLSA 3 1 1 ${presentedSpki}`));
    assert.equal(brokenReport.grade.grade, 'F');
    assert.equal(brokenReport.grade.capReasons[0]?.id, 'dns.dane.mismatch');
    assert.equal(broken.grade, 'F');
  });

  test('text report: domain summary and DNS policy section; --html writes the page', async () => {
    const html = join(home, 'domain.html');
    const run = await audit('example.test', '--html', html);
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout;
    assert.match(out, /Postern audit of the mail domain example\.test +A\+/);
    assert.match(out, /Hosts\n/);
    assert.match(out, new RegExp(`mx1\\.example\\.test:${mx.port()}.* +A\\+`));
    assert.match(out, /DNS policy\n/);
    assert.match(out, /MX +10 mx1\.example\.test/);
    assert.match(out, /MTA-STS policy +mode enforce, mx mx1\.example\.test, max_age 604800/);
    assert.match(out, /TLS-RPT +v=TLSRPTv1; rua=mailto:tlsrpt@example\.test/);
    assert.match(out, /DANE +mx1\.example\.test: DNSSEC, matches/);
    assert.ok(out.includes(`3 1 1 ${presentedSpki}`));
    assert.match(out, /Domain grade\n +A\+/);
    assert.match(out, /HTML report written to/);
    const page = await readFile(html, 'utf8');
    assert.match(page, /^<!doctype html>/i);
    assert.match(page, /<title>Postern audit: example\.test — grade A\+<\/title>/);
    assert.ok(page.includes('mx1.example.test'));
    assert.ok(page.includes(presentedSpki), 'the TLSA record is shown');
    assert.ok(page.includes('mailto:tlsrpt@example.test'));
  });

  test('--submission with --submission-port and --smtps-port: a closed port is unreachable, not graded', async () => {
    const closed = await freePort();
    const run = await audit(
      'example.test',
      '--json',
      '--submission',
      '--submission-port',
      String(closed),
      '--smtps-port',
      String(mx.port(1)),
    );
    assert.equal(run.code, 0, run.stderr);
    const r = parseDomainReport(run.stdout);
    assert.deepEqual(
      r.reports.map((x) => [x.target.port, x.target.mode, x.target.role]),
      [
        [mx.port(0), 'starttls', 'mx'],
        [mx.port(1), 'implicit', 'submission'],
      ],
    );
    assert.equal(r.reports[1]?.certificate?.trusted, true);
    assert.equal(r.unreachable.length, 1);
    assert.equal(r.unreachable[0]?.host, 'mx1.example.test');
    assert.equal(r.unreachable[0]?.port, closed);
    assert.match(r.unreachable[0]?.error ?? '', /nothing is listening on 127\.0\.0\.1 port \d+/);
    // DANE is matched against the chain of the MX port only; the domain grade is the worst audited port.
    assert.equal(r.dns.dane[0]?.matches, true);
    assert.match(r.grade, /^A\+?$/);
  });
});
