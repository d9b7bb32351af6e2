// The SMTP audit against the npm smtp-server (Nodemailer's; a peer nobody here wrote), as it behaves: it
// advertises AUTH before TLS but refuses to run it (538) unless allowInsecureAuth, and its DATA reader keeps
// every test ending inside the message.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { scanSmtp } from '../../../src/audit/smtp/index.js';
import type { AuditTarget } from '../../../src/audit/types.js';
import {
  type SmtpServerHarnessOptions,
  type SmtpServerInstance,
  startSmtpServer,
} from '../../helpers/smtp-server.js';

const servers: SmtpServerInstance[] = [];
after(() => Promise.all(servers.map((s) => s.stop())));

async function start(o: SmtpServerHarnessOptions): Promise<SmtpServerInstance> {
  const s = await startSmtpServer(o);
  servers.push(s);
  return s;
}
const at = (port: number, mode: AuditTarget['mode'] = 'starttls'): AuditTarget => ({
  host: '127.0.0.1',
  port,
  mode,
  timeout: 3000,
});
const users = [{ name: 'alice', password: 'correct horse' }];

describe('SMTP audit: smtp-server', () => {
  test('defaults without AUTH: clean; VRFY 252, no smuggling ending ends DATA', async () => {
    const s = await start({});
    const r = await scanSmtp(at(s.port), {
      smuggling: { from: 'audit@example.org', to: 'bob@example.test' },
    });
    assert.deepEqual(r.ehloBeforeTls, ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'STARTTLS']);
    assert.deepEqual(r.ehloAfterTls, ['PIPELINING', '8BITMIME', 'SMTPUTF8']);
    assert.equal(r.starttlsAfterTls, false);
    assert.equal(r.authBeforeTls.accepted, false);
    assert.equal(r.starttlsInjection.vulnerable, false, r.starttlsInjection.evidence);
    assert.equal(r.vrfy.enabled, false);
    assert.match(r.vrfy.reply ?? '', /^252 /);
    assert.equal(r.size, null);
    assert.equal(r.chunking, false);
    assert.ok(
      r.smuggling?.every((e) => e.outcome === 'not-end-of-data'),
      JSON.stringify(r.smuggling),
    );
    // One stored message per ending: the smuggled transaction stayed inside each.
    assert.equal(s.messages.length, 8);
  });

  test('with users: AUTH advertised before TLS, but the attempt is refused with 538', async () => {
    const s = await start({ users });
    const r = await scanSmtp(at(s.port));
    assert.deepEqual(r.authBeforeTls.offered, ['PLAIN', 'LOGIN']);
    assert.equal(r.authBeforeTls.accepted, false);
    assert.match(r.authBeforeTls.reply ?? '', /^538 /);
    assert.deepEqual(r.authAfterTls, ['PLAIN', 'LOGIN']);
  });

  test('allowInsecureAuth: the plaintext AUTH attempt is processed (535)', async () => {
    const s = await start({ users, allowInsecureAuth: true });
    const r = await scanSmtp(at(s.port));
    assert.equal(r.authBeforeTls.accepted, true);
    assert.match(r.authBeforeTls.reply ?? '', /^535 /);
  });

  test('implicit TLS', async () => {
    const s = await start({ secure: true, users });
    const r = await scanSmtp(at(s.port, 'implicit'));
    assert.equal(r.ehloBeforeTls, null);
    assert.equal(r.starttlsAfterTls, false);
    assert.deepEqual(r.authAfterTls, ['PLAIN', 'LOGIN']);
  });
});
