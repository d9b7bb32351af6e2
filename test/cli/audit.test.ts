// `postern audit` as a user runs it: the real process against Postern's own server (both endpoints, grade A or
// better, JSON valid against docs/audit-report.schema.json, an HTML report written) and deliberately vulnerable
// servers (grade F, --fail-under exit code), plus usage errors.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { tempDir } from '../helpers/tmp.js';
import { startVulnerableSmtp, type VulnerableSmtp } from '../helpers/vulnerable-smtp.js';
import { startServer, type TestServer } from '../integration/server/harness.js';
import { ROOT, runCli } from './cli.js';

const schema = JSON.parse(await readFile(join(ROOT, 'docs/audit-report.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, validateFormats: false, allErrors: true }).compile(schema);

interface Report {
  target: { host: string; port: number; mode: string; servername: string | null };
  protocols: Record<string, boolean | null>;
  ciphers: Record<string, string[]>;
  certificate: { trusted: boolean; nameMatches: boolean } | null;
  smtp: {
    starttlsInjection: { vulnerable: boolean | null };
    authBeforeTls: { accepted: boolean | null };
  } | null;
  findings: { id: string; severity: string; fix?: { summary: string } }[];
  grade: { grade: string };
}

function parseReport(stdout: string): Report {
  const report = JSON.parse(stdout) as Report;
  assert.ok(validate(report), JSON.stringify(validate.errors, null, 2));
  return report;
}

describe('postern audit', () => {
  let home: string;
  let caFile: string;
  let server: TestServer;
  before(async () => {
    home = await tempDir('postern-audit-cli-');
    server = await startServer({
      endpoints: [
        { port: 0, tls: 'starttls' },
        { port: 0, tls: 'implicit' },
      ],
    });
    caFile = join(home, 'ca.pem');
    await writeFile(caFile, server.ca);
  });
  after(() => server.close());

  test("Postern's STARTTLS endpoint: detected, valid JSON, grade A or better, certificate trusted", async () => {
    const run = await runCli(
      ['audit', `127.0.0.1:${server.port(0)}`, '--ca', caFile, '--servername', 'mx.test', '--json'],
      { home },
    );
    assert.equal(run.code, 0, run.stderr);
    const r = parseReport(run.stdout);
    assert.equal(r.target.mode, 'starttls');
    assert.deepEqual(r.protocols, {
      SSLv2: false,
      SSLv3: false,
      'TLSv1.0': false,
      'TLSv1.1': false,
      'TLSv1.2': true,
      'TLSv1.3': true,
    });
    assert.ok(r.ciphers['TLSv1.3']?.includes('TLS_AES_128_GCM_SHA256'));
    assert.equal(r.certificate?.trusted, true);
    assert.equal(r.certificate?.nameMatches, true);
    assert.equal(r.smtp?.starttlsInjection.vulnerable, false);
    assert.match(r.grade.grade, /^A\+?$/);
  });

  test('the implicit-TLS endpoint is detected as such; text report and HTML file', async () => {
    const html = join(home, 'report.html');
    const run = await runCli(
      ['audit', `127.0.0.1:${server.port(1)}`, '--ca', caFile, '--servername', 'mx.test', '--html', html],
      { home },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Postern audit of mx\.test:\d+ \(127\.0\.0\.1\)/);
    assert.match(run.stdout, /implicit TLS/i);
    assert.match(run.stdout, /TLSv1\.3 +offered/);
    assert.match(run.stdout, /HTML report written to/);
    const page = await readFile(html, 'utf8');
    assert.match(page, /^<!doctype html>/i);
    assert.match(page, /grade A/);
  });

  test('without --ca the certificate is untrusted and the grade is capped', async () => {
    const run = await runCli(['audit', `127.0.0.1:${server.port(0)}`, '--servername', 'mx.test', '--json'], {
      home,
    });
    assert.equal(run.code, 0, run.stderr);
    const r = parseReport(run.stdout);
    assert.equal(r.certificate?.trusted, false);
    assert.doesNotMatch(r.grade.grade, /^A/);
    assert.ok(r.findings.some((f) => f.id.startsWith('cert.') && f.fix?.summary));
  });

  describe('deliberately vulnerable servers', () => {
    let vulnerable: VulnerableSmtp;
    before(async () => {
      vulnerable = await startVulnerableSmtp({ flaws: ['starttls-injection', 'auth-before-tls'] });
    });
    after(() => vulnerable.stop());

    test('STARTTLS injection and AUTH before TLS: grade F, and --fail-under makes the exit code 1', async () => {
      const run = await runCli(
        ['audit', `127.0.0.1:${vulnerable.port}`, '--starttls', '--json', '--fail-under', 'B'],
        { home },
      );
      assert.equal(run.code, 1, run.stderr);
      const r = parseReport(run.stdout);
      assert.equal(r.smtp?.starttlsInjection.vulnerable, true);
      assert.equal(r.smtp?.authBeforeTls.accepted, true);
      assert.equal(r.grade.grade, 'F');
      const severe = r.findings.filter((f) => f.severity === 'critical').map((f) => f.id);
      assert.ok(severe.length >= 2, severe.join(', '));
    });
  });

  test('--tls on a STARTTLS port: grade F, every verdict "not tested", advice in flags', async () => {
    const run = await runCli(['audit', `127.0.0.1:${server.port(0)}`, '--tls', '--timeout', '3'], { home });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /No TLS handshake succeeded/);
    assert.match(run.stdout, /use\s+--starttls/);
    assert.doesNotMatch(run.stdout, /tls: '/, 'library wording on the command line');
    assert.match(run.stdout, /\n {2}F\n/);
  });

  test('usage errors: no target, target and --domain, --smuggling without addresses, a bad target', async () => {
    for (const args of [
      ['audit'],
      ['audit', '127.0.0.1:25', '--domain', 'example.test'],
      ['audit', '127.0.0.1:25', '--smuggling'],
      ['audit', 'not a host'],
      ['audit', '127.0.0.1:25', '--tls', '--starttls'],
      ['audit', '--domain', 'example.test', '--pin', 'sha256/AAAA'],
      ['audit', '--domain', 'example.test', '--relay-test'],
      ['audit', '127.0.0.1:25', '--resolver', '127.0.0.1:53'],
      ['audit', '127.0.0.1:25', '--mx-port', '2525'],
    ]) {
      const run = await runCli(args, { home });
      assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
    }
  });

  test('a closed port: a clear error and exit 69', async () => {
    const { freePort } = await import('../helpers/ports.js');
    const port = await freePort();
    const run = await runCli(['audit', `127.0.0.1:${port}`], { home });
    assert.equal(run.code, 69, run.stderr);
    assert.match(run.stderr, /nothing is listening on 127\.0\.0\.1 port \d+/);
  });
});
