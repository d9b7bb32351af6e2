// The SMTP audit against servers that break off in the middle (test/helpers/vulnerable-smtp.ts): what could
// not be tested is reported as null with the reason, never as "safe"; a dead connection is never waited on;
// control characters from the server never reach the result; the relay test says where it ran from.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { scanSmtp } from '../../../src/audit/smtp/index.js';
import type { AuditTarget, SmtpScanResult } from '../../../src/audit/types.js';
import {
  type HostileBehaviour,
  type SmtpFlaw,
  startVulnerableSmtp,
  type VulnerableSmtp,
} from '../../helpers/vulnerable-smtp.js';

const started: VulnerableSmtp[] = [];
after(() => Promise.all(started.map((s) => s.stop())));

async function server(o: { flaws?: SmtpFlaw[]; hostile?: HostileBehaviour } = {}) {
  const s = await startVulnerableSmtp(o);
  started.push(s);
  return s;
}

const target = (port: number, timeout: number): AuditTarget => ({
  host: '127.0.0.1',
  port,
  mode: 'starttls',
  timeout,
});

/** The scan and how long it took, in milliseconds. */
async function timedScan(
  port: number,
  timeout: number,
  o: Parameters<typeof scanSmtp>[1] = {},
): Promise<{ r: SmtpScanResult; ms: number }> {
  const start = performance.now();
  const r = await scanSmtp(target(port, timeout), o);
  return { r, ms: performance.now() - start };
}

/** Every string anywhere in a value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

const TIMEOUT = 1500;
// One timeout plus room for a loaded machine; a second wait on a dead connection would take 2 × TIMEOUT.
const WITHIN_ONE_TIMEOUT = 1.8 * TIMEOUT;

describe('SMTP audit: a STARTTLS that breaks off after "220 ready"', () => {
  test('the server hangs: injection not tested (null, says why), scan within one timeout', async () => {
    const s = await server({ hostile: 'stall-after-starttls' });
    const { r, ms } = await timedScan(s.port, TIMEOUT);
    assert.ok(ms < WITHIN_ONE_TIMEOUT, `took ${Math.round(ms)} ms`);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.match(r.starttlsInjection.evidence ?? '', /^not tested: .*handshake.*ETIMEOUT/);
    assert.equal(r.ehloAfterTls, null);
    assert.equal(r.vrfy.enabled, false, 'VRFY still tested, on a fresh plaintext connection');
  });

  test('the server closes: injection not tested, and nothing waits for a reply on the closed connection', async () => {
    const s = await server({ hostile: 'close-after-starttls' });
    const { r, ms } = await timedScan(s.port, TIMEOUT);
    // Nothing here needs a timeout at all: every failure is a close, seen at once.
    assert.ok(ms < TIMEOUT, `took ${Math.round(ms)} ms`);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.match(r.starttlsInjection.evidence ?? '', /^not tested: .*handshake/);
    assert.ok(r.notes?.some((n) => n.startsWith('STARTTLS did not work')));
  });

  test('TLS comes up, then no reply inside it: injection not tested, scan within one timeout', async () => {
    const s = await server({ hostile: 'silent-in-tls' });
    const { r, ms } = await timedScan(s.port, TIMEOUT);
    assert.ok(ms < WITHIN_ONE_TIMEOUT, `took ${Math.round(ms)} ms`);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.match(r.starttlsInjection.evidence ?? '', /^not tested: no reply inside TLS .*ETIMEOUT/);
  });

  test('closed before any reply to the pipelined STARTTLS: injection not tested', async () => {
    const s = await server({ hostile: 'close-after-ehlo' });
    const { r } = await timedScan(s.port, TIMEOUT);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.match(
      r.starttlsInjection.evidence ?? '',
      /^not tested: no reply to STARTTLS .*ECONNECTION_CLOSED/,
    );
  });

  test('the clean server still gets a verdict: not vulnerable', async () => {
    const s = await server();
    const { r } = await timedScan(s.port, TIMEOUT);
    assert.equal(r.starttlsInjection.vulnerable, false);
  });
});

describe('SMTP audit: relay attempts that were never made are not "refused"', () => {
  test('421 to every RCPT: every attempt is null with the 421 as the reason, none refused', async () => {
    const s = await server({ hostile: 'rcpt-421' });
    const { r } = await timedScan(s.port, TIMEOUT, { relayTest: {} });
    assert.ok(r.relay && r.relay.length >= 8);
    for (const a of r.relay) {
      assert.equal(a.accepted, null, JSON.stringify(a));
      assert.match(a.reply, /^not tested: .*421 4\.7\.0/);
    }
  });

  test('the connection closes after EHLO: every attempt null, the close as the reason', async () => {
    const s = await server({ hostile: 'close-after-ehlo' });
    const { r } = await timedScan(s.port, TIMEOUT, { relayTest: {} });
    assert.ok(r.relay && r.relay.length >= 8);
    for (const a of r.relay) {
      assert.equal(a.accepted, null, JSON.stringify(a));
      assert.match(a.reply, /^not tested: .*ECONNECTION_CLOSED/);
    }
  });

  test('an open relay that hangs up after each RCPT: every accepted RCPT is kept', async () => {
    const s = await server({ flaws: ['open-relay'], hostile: 'close-after-rcpt' });
    const { r } = await timedScan(s.port, TIMEOUT, { relayTest: { outsideDomain: 'outside.example' } });
    assert.ok(r.relay && r.relay.length >= 8);
    for (const a of r.relay) {
      assert.equal(a.accepted, true, JSON.stringify(a));
      assert.match(a.reply, /^250 /);
    }
  });

  test('a closed relay that hangs up after each RCPT: every RCPT refused, with its reply', async () => {
    const s = await server({ hostile: 'close-after-rcpt' });
    const { r } = await timedScan(s.port, TIMEOUT, { relayTest: {} });
    assert.ok(r.relay && r.relay.length >= 8);
    for (const a of r.relay) {
      assert.equal(a.accepted, false, JSON.stringify(a));
      assert.match(a.reply, /^554 5\.7\.1 Relay access denied/);
    }
  });

  test('the relay test says it ran from a loopback address (which most servers trust)', async () => {
    const s = await server();
    const { r } = await timedScan(s.port, TIMEOUT, { relayTest: {} });
    assert.equal(r.relaySource, 'loopback');
    const { r: without } = await timedScan(s.port, TIMEOUT);
    assert.equal(without.relaySource, undefined, 'no relay test, no source');
  });
});

describe('SMTP audit: control characters from the server never reach the result', () => {
  test('an ANSI escape among the AUTH mechanisms is escaped before and after TLS', async () => {
    const s = await server({ hostile: 'escape-in-ehlo' });
    const { r } = await timedScan(s.port, TIMEOUT, { relayTest: {} });
    const shown = ['PLAIN', '\\x1b[2J\\x1b]0;PWNED\\x07LOGIN'];
    assert.deepEqual(r.authBeforeTls.offered, shown);
    assert.deepEqual(r.authAfterTls, shown);
    const raw = strings(r).filter((text) => /[\x00-\x1f\x7f-\x9f]/.test(text));
    assert.deepEqual(raw, []);
  });
});

describe('SMTP audit: what could not be tested still fits the report schema', () => {
  const schema = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../../docs/audit-report.schema.json'), 'utf8'),
  );
  const ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: true });
  ajv.addSchema(schema);
  const validate = ajv.getSchema(`${schema.$id}#/$defs/smtp`);

  for (const hostile of ['close-after-ehlo', 'rcpt-421', 'close-after-starttls'] as const) {
    test(`${hostile}: null relay attempts, relaySource and notes validate`, async () => {
      assert.ok(validate);
      const s = await server({ hostile });
      const { r } = await timedScan(s.port, TIMEOUT, { relayTest: {} });
      assert.ok(r.relay?.some((a) => a.accepted === null) || hostile === 'close-after-starttls');
      assert.equal(r.relaySource, 'loopback');
      const json = JSON.parse(JSON.stringify(r));
      assert.ok(validate(json), JSON.stringify(validate.errors));
    });
  }
});
