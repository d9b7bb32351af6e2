// The SMTP audit against a private Postfix (Debian's, a peer nobody here wrote), configured several ways:
// its defaults, AUTH before TLS with VRFY disabled and bare newlines forbidden, and a real recipient list.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scanSmtp } from '../../../src/audit/smtp/index.js';
import type { AuditTarget, SmtpScanResult } from '../../../src/audit/types.js';
import { peerSkip } from '../../helpers/peers.js';
import { type PostfixInstance, startPostfix } from '../../helpers/postfix.js';

const skip = peerSkip('postfix', 'dovecot');
const at = (port: number, mode: AuditTarget['mode'] = 'starttls'): AuditTarget => ({
  host: '127.0.0.1',
  port,
  mode,
  timeout: 5000,
});
const accepted = (r: SmtpScanResult) =>
  (r.smuggling ?? []).filter((e) => e.outcome === 'accepted').map((e) => e.ending);
const MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256'];

describe('SMTP audit: Postfix defaults (AUTH only under TLS)', { skip }, () => {
  let pf: PostfixInstance;
  before(async () => {
    pf = await startPostfix();
  });
  after(() => pf?.stop());

  test('port 25 style: STARTTLS, no AUTH, no injection, VRFY answers 252, relay refused', async () => {
    const r = await scanSmtp(at(pf.ports.smtp), { relayTest: {} });
    assert.equal(r.banner, '220 mail.example.test ESMTP Postfix (Postern test instance)');
    assert.equal(r.starttlsOffered, true);
    assert.equal(r.starttlsAfterTls, false);
    assert.ok(r.ehloBeforeTls?.includes('STARTTLS') && r.ehloBeforeTls.includes('VRFY'));
    assert.ok(r.ehloAfterTls && !r.ehloAfterTls.includes('STARTTLS'));
    assert.deepEqual(r.authBeforeTls.offered, []);
    assert.equal(r.authBeforeTls.accepted, false);
    assert.match(r.authBeforeTls.reply ?? '', /^503 5\.5\.1 .*authentication not enabled/);
    assert.deepEqual(r.authAfterTls, []);
    assert.equal(r.starttlsInjection.vulnerable, false, r.starttlsInjection.evidence);
    // disable_vrfy_command=no: Postfix answers VRFY, but with 252 (and our unknown name passes its
    // catch-all test recipients), so it does not count as enabled; see the recipient-list test below.
    assert.deepEqual(r.vrfy, { enabled: false, reply: '252 2.0.0 postmaster' });
    assert.equal(r.expn.enabled, false);
    assert.match(r.expn.reply ?? '', /^500 /);
    assert.equal(r.size, 10240000);
    assert.equal(r.smtputf8, true);
    assert.equal(r.chunking, true);
    assert.equal(r.pipelining, true);
    assert.equal(r.requireTls, false);
    assert.ok(r.relay && r.relay.length >= 8);
    for (const a of r.relay)
      assert.match(a.reply, /^554 5\.7\.1 .*Relay access denied/, `${a.from} -> ${a.to}`);
  });

  test('submission: STARTTLS required, AUTH only after it', async () => {
    const r = await scanSmtp(at(pf.ports.submission));
    assert.deepEqual(r.authBeforeTls.offered, []);
    assert.equal(r.authBeforeTls.accepted, false);
    assert.match(r.authBeforeTls.reply ?? '', /^530 5\.7\.0 Must issue a STARTTLS command first/);
    assert.deepEqual(r.authAfterTls, MECHANISMS);
    assert.equal(r.starttlsInjection.vulnerable, false);
  });

  test('smtps (implicit TLS): before-TLS fields null, AUTH mechanisms found', async () => {
    const r = await scanSmtp(at(pf.ports.smtps, 'implicit'));
    assert.equal(r.ehloBeforeTls, null);
    assert.equal(r.starttlsOffered, null);
    assert.equal(r.authBeforeTls.accepted, null);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.deepEqual(r.authAfterTls, MECHANISMS);
  });

  test('smuggling: Postfix 3.7 with smtpd_forbid_bare_newline=no ends DATA at three of the endings', async () => {
    const r = await scanSmtp(at(pf.ports.smtp), {
      smuggling: { from: 'audit@example.org', to: 'bob@example.test' },
    });
    assert.deepEqual(accepted(r), ['\\n.\\n', '\\n.\\r\\n', '\\r\\n.\\r\\r\\n']);
    assert.ok(r.smuggling?.every((e) => e.outcome === 'accepted' || e.outcome === 'not-end-of-data'));
    // What Postfix stored agrees: one message per ending, plus one smuggled message per accepted ending.
    const files = await pf.waitForMessages('bob', 11);
    const bodies = await pf.readMessages('bob');
    assert.equal(files.length, 11);
    // A smuggled message stands alone: its own header block has the SMUGGLED subject.
    const headersOf = (b: Buffer) => b.toString('latin1').split('\n\n')[0] ?? '';
    const alone = bodies.filter((b) => headersOf(b).includes('Subject: Postern audit: SMUGGLED'));
    assert.deepEqual(
      alone.map((b) => /SMUGGLED message, ending (\S+)/.exec(headersOf(b))?.[1]).sort(),
      ['\\n.\\n', '\\n.\\r\\n', '\\r\\n.\\r\\r\\n'].sort(),
    );
  });
});

describe('SMTP audit: Postfix with smtpd_tls_auth_only=no, VRFY disabled, bare newlines forbidden', {
  skip,
}, () => {
  let pf: PostfixInstance;
  before(async () => {
    pf = await startPostfix({
      tlsAuthOnly: false,
      extraMain: { disable_vrfy_command: 'yes', smtpd_forbid_bare_newline: 'yes' },
    });
  });
  after(() => pf?.stop());

  test('submission: AUTH offered before TLS and the fake credential processed (535)', async () => {
    const r = await scanSmtp(at(pf.ports.submission));
    assert.deepEqual(r.authBeforeTls.offered, MECHANISMS);
    assert.equal(r.authBeforeTls.accepted, true);
    assert.match(r.authBeforeTls.reply ?? '', /^535 5\.7\.8 /);
    assert.deepEqual(r.authAfterTls, MECHANISMS);
    assert.equal(r.vrfy.enabled, false);
    assert.match(r.vrfy.reply ?? '', /^502 5\.5\.1 VRFY command is disabled/);
    assert.ok(!r.ehloBeforeTls?.includes('VRFY'));
  });

  test('smuggling: no ending ends DATA any more', async () => {
    const r = await scanSmtp(at(pf.ports.smtp), {
      smuggling: { from: 'audit@example.org', to: 'bob@example.test' },
    });
    assert.equal(r.smuggling?.length, 8);
    assert.deepEqual(accepted(r), [], JSON.stringify(r.smuggling));
  });
});

describe('SMTP audit: Postfix with a real recipient list', { skip }, () => {
  let pf: PostfixInstance;
  before(async () => {
    pf = await startPostfix({
      extraMain: { virtual_mailbox_maps: 'inline:{ bob@example.test=bob/, postmaster@example.test=pm/ }' },
    });
  });
  after(() => pf?.stop());

  test('VRFY tells unknown users apart (252 vs 550 5.1.1): enabled', async () => {
    const r = await scanSmtp(at(pf.ports.smtp));
    assert.equal(r.vrfy.enabled, true);
    assert.match(
      r.vrfy.reply ?? '',
      /^VRFY postmaster: 252 2\.0\.0 postmaster; VRFY postern-audit-[0-9a-f]+: 550 5\.1\.1 /,
    );
  });
});
