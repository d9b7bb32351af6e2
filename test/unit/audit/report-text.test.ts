// The terminal report: its sections in order, fixes per server, colour only through the style, and hostile
// server text made inert (no escape sequences reach the terminal).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  plainStyle,
  renderDomainText,
  renderText,
  type TextStyle,
  terminalSafe,
} from '../../../src/audit/render-text.js';
import { buildReport } from '../../../src/audit/report.js';
import {
  dnsPolicy,
  domainReport,
  hostileParts,
  mxParts,
  parts,
  postfixDefaults,
  smtpScan,
} from './report-fixtures.js';

const SECTIONS = [
  'Transport',
  'Protocols',
  'Ciphers',
  'Key exchange',
  'TLS features',
  'Certificate',
  'SMTP',
  'DNS policy',
  'Mozilla profile: intermediate (guidelines 5.7)',
  'Findings',
  'Grade',
];

/** A style that marks what it colours, so a test can see which text got which colour. */
const tagged: TextStyle = {
  bold: (t) => `<b>${t}</b>`,
  dim: (t) => `<dim>${t}</dim>`,
  red: (t) => `<red>${t}</red>`,
  green: (t) => `<green>${t}</green>`,
  yellow: (t) => `<yellow>${t}</yellow>`,
  cyan: (t) => `<cyan>${t}</cyan>`,
};

test('the text report has every section, in order, and ends with the grade', () => {
  const text = renderText(buildReport(mxParts({ dns: dnsPolicy(), profile: 'intermediate' })));
  const lines = text.split('\n');
  let last = -1;
  for (const heading of SECTIONS) {
    const at = lines.indexOf(heading);
    assert.ok(at > last, `section "${heading}" missing or out of order`);
    last = at;
  }
  assert.match(
    lines[0] ?? '',
    /^Postern audit of mail\.example\.com:25 {2}A\+ {2}2025-06-01T12:00:00\.000Z, 1\.8 s$/,
  );
  assert.match(text, /\n {2}A\+\n$/);
  assert.match(text, /TLSv1\.0 {3}not offered/);
  assert.match(text, /TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 +256 bit {2}FS AEAD/);
  assert.match(text, /MTA-STS policy +mode enforce, mx mail\.example\.com, max_age 604800/);
  assert.match(text, /✓ TLS 1\.3 is offered/);
  assert.match(text, /No problems found/);
});

test('findings show severity, cap, evidence and the fix per server software', () => {
  const text = renderText(buildReport(postfixDefaults()));
  assert.match(
    text,
    /HIGH {5}Anonymous cipher suites \(no server authentication\) \[caps at C\] {2}tls\.cipher\.anon/,
  );
  assert.match(text, / {13}Postfix {2}smtpd_tls_protocols = >=TLSv1\.2\n {22}smtpd_tls_mandatory_protocols/);
  assert.match(text, /Exim {5}openssl_options = \+no_sslv2/);
  assert.match(text, /Postern {2}new SmtpServer/);
  assert.match(text, /Capped by:\n {4}C {2}Anonymous cipher suites/);
  // Critical and high findings come before medium and low ones.
  assert.ok(text.indexOf('HIGH ') < text.indexOf('MEDIUM '));
  assert.ok(text.indexOf('MEDIUM ') < text.indexOf('LOW '));
  for (const line of text.split('\n')) {
    if (!/^ {11}\S/.test(line) || line.includes('=')) continue;
    assert.ok(line.length <= 100, `wrapped prose fits in 100 columns: ${line}`);
  }
});

test('colour comes only from the style: problems red or yellow, passes green', () => {
  const text = renderText(buildReport(postfixDefaults()), { style: tagged });
  assert.match(text, /<b><red>HIGH {4}<\/red><\/b>/);
  assert.match(text, /TLSv1\.0 {3}<yellow>offered \(deprecated\)<\/yellow>/);
  assert.match(text, /TLSv1\.3 {3}<green>offered<\/green>/);
  assert.match(text, /<b><yellow>C<\/yellow><\/b>/);
  const plain = renderText(buildReport(postfixDefaults()));
  assert.ok(!plain.includes('\x1b'));
  assert.ok(!plain.includes('<red>'));
});

test('hostile banners, EHLO lines, certificate names and replies cannot drive the terminal', () => {
  const report = buildReport(hostileParts());
  const text = renderText(report, { style: plainStyle });
  // No control character except the newlines the report itself writes; no bidi override.
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text));
  assert.match(text, /\\x1b\[2J\\x1b\]0;owned\\x07 \\u202eevil\\x0d\\x0aX-Injected: 1/);
  // The injected "header" stays on the banner's line.
  assert.ok(!text.split('\n').some((l) => l.startsWith('X-Injected')));
  assert.equal(terminalSafe('a\tb\u0085c'), 'a\\x09b\\x85c');
  assert.equal(terminalSafe('naïve ✓ 日本'), 'naïve ✓ 日本');
  assert.equal(report.grade.grade, 'F');
});

test('missing parts read as missing, not as failures', () => {
  const text = renderText(
    buildReport(
      parts({
        tls: null,
        certificate: null,
        smtp: smtpScan({ starttlsOffered: false, ehloAfterTls: null }),
      }),
    ),
  );
  assert.match(text, /No cipher suites were accepted/);
  assert.match(text, /No certificate was retrieved/);
  assert.match(text, /SSLv2 {5}not tested/);
  assert.match(text, /CRITICAL STARTTLS is not offered \[caps at F\]/);
});

test('a domain report lists its hosts with grades, the DNS policy once, then each host', () => {
  const domain = domainReport();
  const text = renderDomainText(domain);
  const lines = text.split('\n');
  assert.match(lines[0] ?? '', /^Postern audit of the mail domain example\.com {2}B {2}/);
  assert.match(text, /\n {2}mail\.example\.com:25 \(192\.0\.2\.10\) +B {3}The certificate is self-signed\n/);
  assert.match(text, /\n {2}mail\.example\.com:587 \(192\.0\.2\.10\) +A\n/);
  assert.match(text, /backup\.example\.net:25 +unreachable connect ECONNREFUSED/);
  assert.equal(lines.filter((l) => l === 'DNS policy').length, 1);
  assert.equal(lines.filter((l) => l === 'Findings').length, 2);
  assert.ok(text.indexOf('━━ mail.example.com:25') < text.indexOf('━━ mail.example.com:587'));
  assert.match(text, /Domain grade\n {2}B {2}the worst grade of its hosts\n$/);
});
