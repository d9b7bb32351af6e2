// The --json report validates against docs/audit-report.schema.json for every kind of result, and the schema
// is tight enough to catch a report that drifts from it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { AUDIT_REPORT_SCHEMA, type AuditReport, buildReport } from '../../../src/audit/report.js';
import {
  certCheck,
  DANE_EE,
  dnsPolicy,
  hostileParts,
  mxParts,
  parts,
  postfixDefaults,
  selfSignedCert,
  smtpScan,
  tlsScan,
} from './report-fixtures.js';

const ROOT = join(import.meta.dirname, '../../..');
const schema = JSON.parse(readFileSync(join(ROOT, 'docs/audit-report.schema.json'), 'utf8'));
const validate = new Ajv2020({ strict: true, validateFormats: false, allErrors: true }).compile(schema);

/** The report as `--json` prints it: through JSON, so undefined fields are gone. */
function asJson(report: AuditReport): unknown {
  return JSON.parse(JSON.stringify(report));
}

function assertValid(report: AuditReport, what: string): void {
  assert.ok(validate(asJson(report)), `${what}: ${JSON.stringify(validate.errors, null, 1)}`);
}

const SCENARIOS = {
  modern: parts(),
  'modern with profile and domain': parts({ profile: 'modern', dns: dnsPolicy() }),
  'postfix defaults on 25': postfixDefaults(),
  'hostile strings everywhere': hostileParts(),
  'no STARTTLS': parts({
    tls: null,
    certificate: null,
    smtp: smtpScan({ starttlsOffered: false, ehloAfterTls: null, authAfterTls: [] }),
  }),
  'every probe failed': parts({
    tls: null,
    certificate: null,
    smtp: null,
    errors: [
      { probe: 'tls', code: 'ETIMEOUT', message: 'timed out' },
      { probe: 'smtp', code: 'ECONNRESET', message: 'reset' },
    ],
  }),
  'implicit TLS on 465 with a pin': parts({
    target: { host: '127.0.0.1', port: 465, mode: 'implicit', servername: 'mail.example.com' },
    smtp: smtpScan({ ehloBeforeTls: null, starttlsOffered: null, starttlsAfterTls: null }),
    certificate: certCheck({ pinMatches: true, verifyError: undefined }),
  }),
  'MX with DANE, smuggling and relay tests': mxParts({
    certificate: selfSignedCert(),
    tls: tlsScan(
      { 'TLSv1.2': ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'] },
      { dhBits: [2048], groups: ['ffdhe2048'] },
    ),
    dns: dnsPolicy({
      dane: [{ mx: 'mail.example.com', records: [DANE_EE], authenticated: true, matches: true, errors: [] }],
    }),
    smtp: smtpScan({
      smuggling: [
        { ending: '\\n.\\n', outcome: 'rejected', evidence: '521' },
        { ending: '\\r.\\r', outcome: 'error', evidence: 'timed out' },
      ],
      relay: [{ from: '<>', to: 'x@example.org', reply: '554 5.7.1', accepted: false }],
    }),
    profile: 'old',
  }),
};

test('every fixture report validates against docs/audit-report.schema.json', () => {
  for (const [name, p] of Object.entries(SCENARIOS)) assertValid(buildReport(p), name);
});

test('the report carries its schema id and version, and the protocol maps cover every protocol', () => {
  const r = buildReport(parts());
  assert.equal(r.schema, AUDIT_REPORT_SCHEMA);
  assert.equal(schema.properties.schema.const, AUDIT_REPORT_SCHEMA);
  assert.equal(r.version, 1);
  assert.deepEqual(Object.keys(r.protocols), ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
  assert.deepEqual(r.ciphers['TLSv1.3'], [
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'TLS_AES_128_GCM_SHA256',
  ]);
  assert.equal(r.protocols['TLSv1.0'], false);
  assert.equal(r.target.servername, 'mail.example.com');
  const ip = buildReport(parts({ target: { host: '127.0.0.1', port: 2587, mode: 'starttls' } }));
  assert.equal(ip.target.servername, null);
  const none = buildReport(SCENARIOS['every probe failed']);
  assert.deepEqual(Object.values(none.protocols), [null, null, null, null, null, null]);
});

test('the schema rejects reports that drift from it', () => {
  interface Loose {
    grade: Record<string, unknown>;
    protocols: Record<string, unknown>;
    findings: Record<string, unknown>[];
    target: Record<string, unknown>;
    [field: string]: unknown;
  }
  const good = asJson(buildReport(parts())) as Loose;
  const broken: [string, (r: Loose) => void][] = [
    ['unknown grade', (r) => (r.grade['grade'] = 'Z')],
    ['missing protocol', (r) => delete r.protocols['TLSv1.3']],
    ['protocol flag as text', (r) => (r.protocols['TLSv1.2'] = 'yes')],
    ['unknown severity', (r) => (r.findings[0]!['severity'] = 'severe')],
    ['finding without evidence', (r) => delete r.findings[0]!['evidence']],
    ['extra top-level field', (r) => (r['surprise'] = 1)],
    ['wrong version', (r) => (r['version'] = 2)],
    ['bad mode', (r) => (r.target['mode'] = 'plaintext')],
  ];
  for (const [what, mutate] of broken) {
    const copy = structuredClone(good);
    mutate(copy);
    assert.equal(validate(copy), false, `${what} should not validate`);
  }
});
