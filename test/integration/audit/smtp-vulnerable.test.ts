// The SMTP audit against deliberately broken tiny servers (test/helpers/vulnerable-smtp.ts): each flaw is found
// on an otherwise clean server, the clean server passes, and hostile servers end in typed errors, never a hang.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { scanSmtp } from '../../../src/audit/smtp/index.js';
import type { AuditTarget, SmtpScanResult } from '../../../src/audit/types.js';
import { PosternError } from '../../../src/core/errors.js';
import { freePort } from '../../helpers/ports.js';
import {
  type HostileBehaviour,
  type SmtpFlaw,
  startVulnerableSmtp,
  type VulnerableSmtp,
} from '../../helpers/vulnerable-smtp.js';

const started: VulnerableSmtp[] = [];
after(() => Promise.all(started.map((s) => s.stop())));

async function server(o: { flaws?: SmtpFlaw[]; hostile?: HostileBehaviour; implicitTls?: boolean } = {}) {
  const s = await startVulnerableSmtp(o);
  started.push(s);
  return s;
}

const target = (port: number, timeout = 3000, mode: AuditTarget['mode'] = 'starttls'): AuditTarget => ({
  host: '127.0.0.1',
  port,
  mode,
  timeout,
});

const envelope = { from: 'audit@example.org', to: 'bob@vulnerable.test' };

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<PosternError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PosternError, `not a PosternError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

function acceptedEndings(r: SmtpScanResult): string[] {
  return (r.smuggling ?? []).filter((s) => s.outcome === 'accepted').map((s) => s.ending);
}

describe('SMTP audit: the clean tiny server', () => {
  test('passes every check', async () => {
    const s = await server();
    const r = await scanSmtp(target(s.port), { smuggling: envelope, relayTest: {} });
    assert.equal(r.banner, '220 vulnerable.test ESMTP vulnerable test server');
    assert.deepEqual(r.ehloBeforeTls, ['PIPELINING', 'SIZE 1000000', 'STARTTLS', '8BITMIME']);
    assert.deepEqual(r.ehloAfterTls, ['PIPELINING', 'SIZE 1000000', 'AUTH PLAIN LOGIN', '8BITMIME']);
    assert.equal(r.starttlsOffered, true);
    assert.equal(r.starttlsAfterTls, false);
    assert.deepEqual(r.authBeforeTls.offered, []);
    assert.equal(r.authBeforeTls.accepted, false);
    assert.match(r.authBeforeTls.reply ?? '', /^538 /);
    assert.deepEqual(r.authAfterTls, ['PLAIN', 'LOGIN']);
    assert.equal(r.starttlsInjection.vulnerable, false);
    assert.match(r.starttlsInjection.evidence ?? '', /221/);
    assert.deepEqual(r.vrfy, { enabled: false, reply: '252 2.5.0 Cannot VRFY user' });
    assert.deepEqual(r.expn, { enabled: false, reply: '502 5.5.1 EXPN not available' });
    assert.equal(r.size, 1000000);
    assert.equal(r.pipelining, true);
    assert.equal(r.chunking, false);
    assert.equal(r.smuggling?.length, 8);
    assert.deepEqual(acceptedEndings(r), []);
    assert.ok(r.smuggling?.every((e) => e.outcome === 'not-end-of-data'));
    assert.ok(r.relay && r.relay.length >= 8);
    assert.ok(r.relay.every((a) => a.accepted === false && a.reply.startsWith('554 ')));
    assert.equal(r.relaySource, 'loopback');
    assert.equal(r.notes, undefined);
    // One message per ending, nothing smuggled through.
    assert.equal(s.messages.length, 8);
  });
});

describe('SMTP audit: each flaw is found', () => {
  test('STARTTLS command injection: the pipelined NOOP answered inside TLS', async () => {
    const s = await server({ flaws: ['starttls-injection'] });
    const r = await scanSmtp(target(s.port));
    assert.equal(r.starttlsInjection.vulnerable, true);
    assert.match(r.starttlsInjection.evidence ?? '', /NOOP.*inside TLS: 250 /);
    // The rest of the server is clean.
    assert.equal(r.authBeforeTls.accepted, false);
    assert.equal(r.starttlsAfterTls, false);
  });

  test('bare-LF end of data: \\n.\\n and \\n.\\r\\n end DATA and the smuggled message is stored', async () => {
    const s = await server({ flaws: ['bare-lf-end-of-data'] });
    const r = await scanSmtp(target(s.port), { smuggling: envelope });
    assert.deepEqual(acceptedEndings(r), ['\\n.\\n', '\\n.\\r\\n']);
    const accepted = r.smuggling?.find((e) => e.ending === '\\n.\\n');
    assert.match(accepted?.evidence ?? '', /250 .*\| 250 .*\| 250 .*\| 354 .*\| 250 /);
    assert.ok(
      r.smuggling?.filter((e) => e.outcome !== 'accepted').every((e) => e.outcome === 'not-end-of-data'),
    );
    // 8 test messages + 2 smuggled ones, which the server really took as messages of their own.
    assert.equal(s.messages.length, 10);
    assert.equal(
      s.messages.filter((m) =>
        m.startsWith(
          'From: <audit@example.org>\r\nTo: <bob@vulnerable.test>\r\nSubject: Postern audit: SMUGGLED',
        ),
      ).length,
      2,
    );
  });

  test('AUTH before TLS: offered in plaintext and the fake credential is processed (535)', async () => {
    const s = await server({ flaws: ['auth-before-tls'] });
    const r = await scanSmtp(target(s.port));
    assert.deepEqual(r.authBeforeTls.offered, ['PLAIN', 'LOGIN']);
    assert.equal(r.authBeforeTls.accepted, true);
    assert.match(r.authBeforeTls.reply ?? '', /^535 5\.7\.8/);
    assert.equal(r.starttlsInjection.vulnerable, false);
  });

  test('open relay: RCPT to the outside domain accepted in every form', async () => {
    const s = await server({ flaws: ['open-relay'] });
    const r = await scanSmtp(target(s.port), { relayTest: { outsideDomain: 'outside.example' } });
    assert.ok(r.relay?.every((a) => a.accepted && a.reply.startsWith('250 ')));
    assert.ok(r.relay?.some((a) => a.from === '' && a.to === 'postern-relay-test@outside.example'));
    assert.equal(s.messages.length, 0, 'the relay test never sends DATA');
  });

  test('implicit TLS: the before-TLS fields are null, the rest is tested under TLS', async () => {
    const s = await server({ implicitTls: true, flaws: ['bare-lf-end-of-data'] });
    const r = await scanSmtp(target(s.port, 3000, 'implicit'), { smuggling: envelope });
    assert.equal(r.ehloBeforeTls, null);
    assert.equal(r.starttlsOffered, null);
    assert.equal(r.authBeforeTls.accepted, null);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.deepEqual(r.authAfterTls, ['PLAIN', 'LOGIN']);
    assert.equal(r.starttlsAfterTls, false);
    assert.deepEqual(acceptedEndings(r), ['\\n.\\n', '\\n.\\r\\n']);
  });
});

describe('SMTP audit: hostile targets end in typed errors or null results, never a hang', () => {
  test('a server that never greets: ETIMEOUT after the target timeout', async () => {
    const s = await server({ hostile: 'silent' });
    const started = Date.now();
    const err = await rejectsWith(scanSmtp(target(s.port, 300)), 'ETIMEOUT');
    assert.equal(err.phase, 'greeting');
    assert.ok(Date.now() - started < 2000);
  });

  test('a greeting that is not SMTP: EPROTOCOL', async () => {
    const s = await server({ hostile: 'garbage' });
    await rejectsWith(scanSmtp(target(s.port)), 'EPROTOCOL');
  });

  test('a refused greeting: ESMTP_REJECTED with the reply', async () => {
    const s = await server({ hostile: 'reject-greeting' });
    const err = await rejectsWith(scanSmtp(target(s.port)), 'ESMTP_REJECTED');
    assert.equal(err.reply?.code, 554);
  });

  test('closed after the greeting: ECONNECTION_CLOSED', async () => {
    const s = await server({ hostile: 'close-after-greeting' });
    await rejectsWith(scanSmtp(target(s.port)), 'ECONNECTION_CLOSED');
  });

  test('nothing listening: ECONNREFUSED', async () => {
    await rejectsWith(scanSmtp(target(await freePort())), 'ECONNREFUSED');
  });

  test('closed after EHLO: the EHLO is reported, everything later null with evidence', async () => {
    const s = await server({ hostile: 'close-after-ehlo' });
    const r = await scanSmtp(target(s.port), { relayTest: {} });
    assert.deepEqual(r.ehloBeforeTls, ['PIPELINING', 'SIZE 1000000', 'STARTTLS', '8BITMIME']);
    assert.equal(r.ehloAfterTls, null);
    assert.equal(r.starttlsAfterTls, null);
    assert.equal(r.authBeforeTls.accepted, null);
    assert.match(r.authBeforeTls.reply ?? '', /ECONNECTION_CLOSED/);
    assert.equal(r.vrfy.enabled, null);
    // Closed before any reply to STARTTLS: no verdict, not "safe".
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.ok(r.notes?.some((n) => n.startsWith('STARTTLS did not work')));
    // Every relay attempt is reported as not tested, with the failure as its evidence.
    assert.ok(r.relay && r.relay.length >= 8);
    assert.ok(r.relay.every((a) => a.accepted === null && a.reply.includes('ECONNECTION_CLOSED')));
  });

  test('220 to STARTTLS, then no handshake: a timeout, a note, plaintext checks still done', async () => {
    const s = await server({ hostile: 'stall-after-starttls' });
    const started = Date.now();
    const r = await scanSmtp(target(s.port, 400), { smuggling: envelope });
    assert.ok(Date.now() - started < 3000);
    assert.equal(r.ehloAfterTls, null);
    assert.match(r.notes?.[0] ?? '', /ETIMEOUT/);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.match(r.starttlsInjection.evidence ?? '', /^not tested: .*handshake/);
    assert.equal(r.vrfy.enabled, false, 'VRFY tested on a fresh plaintext connection');
    // After the failed STARTTLS the smuggling test ran in plaintext.
    assert.ok(r.smuggling?.every((e) => e.outcome === 'not-end-of-data'));
  });

  test('an abort stops the scan at once with EABORTED', async () => {
    const s = await server({ hostile: 'silent' });
    const controller = new AbortController();
    const started = Date.now();
    const scan = scanSmtp(target(s.port, 10_000), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await rejectsWith(scan, 'EABORTED');
    assert.ok(Date.now() - started < 2000);
  });

  test('bad opt-in input is refused before anything is sent', async () => {
    const s = await server();
    await rejectsWith(
      scanSmtp(target(s.port), {
        smuggling: { from: 'a@example.org\r\nRCPT TO:<x@y>', to: 'b@vulnerable.test' },
      }),
      'ECOMMAND_INJECTION',
    );
    await rejectsWith(scanSmtp(target(s.port), { relayTest: { outsideDomain: 'a b' } }), 'EINVALID_ARGUMENT');
    assert.equal(s.connections, 0);
  });
});
