// The SMTP audit against Postern's own server: it passes every check, on the STARTTLS and the implicit-TLS
// endpoint, including the opt-in smuggling and relay tests (with a backend that knows its recipients).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scanSmtp } from '../../../src/audit/smtp/index.js';
import { reject } from '../../../src/server/index.js';
import { startServer, type TestServer, testUsers } from '../server/harness.js';

describe('SMTP audit: Postern server', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({
      endpoints: [
        { port: 0, tls: 'starttls' },
        { port: 0, tls: 'implicit' },
      ],
      auth: { store: testUsers, mechanisms: ['PLAIN', 'LOGIN'] },
      backend: {
        onRcptTo(address) {
          if (!/^[a-z0-9._-]+@mx\.test$/i.test(address)) throw reject(554, '5.7.1', 'Relay access denied');
        },
      },
    });
  });
  after(() => t.close());

  test('STARTTLS endpoint: every check passes', async () => {
    const r = await scanSmtp(
      { host: '127.0.0.1', port: t.port(0), mode: 'starttls', timeout: 3000 },
      { smuggling: { from: 'audit@example.org', to: 'bob@mx.test' }, relayTest: {} },
    );
    assert.match(r.banner, /^220 mx\.test /);
    assert.equal(r.starttlsOffered, true);
    assert.equal(r.starttlsAfterTls, false);
    assert.ok(r.ehloBeforeTls?.includes('STARTTLS'));
    assert.ok(!r.ehloAfterTls?.includes('STARTTLS'));
    assert.deepEqual(r.authBeforeTls.offered, []);
    assert.equal(r.authBeforeTls.accepted, false, r.authBeforeTls.reply);
    assert.deepEqual(r.authAfterTls, ['PLAIN', 'LOGIN']);
    assert.equal(r.starttlsInjection.vulnerable, false);
    assert.match(r.starttlsInjection.evidence ?? '', /pipelined/);
    assert.equal(r.vrfy.enabled, false);
    assert.match(r.vrfy.reply ?? '', /^252 /);
    assert.equal(r.expn.enabled, false);
    assert.ok(r.size !== null && r.size > 0);
    assert.equal(r.smtputf8, true);
    assert.equal(r.requireTls, true);
    assert.equal(r.chunking, true);
    assert.equal(r.pipelining, true);
    // Bare CR/LF refused (521); the NUL ending stays inside one message.
    for (const e of r.smuggling ?? []) {
      const expected = e.ending === '\\r\\n\\x00.\\r\\n' ? 'not-end-of-data' : 'rejected';
      assert.equal(e.outcome, expected, `${e.ending}: ${e.evidence}`);
    }
    assert.equal(r.smuggling?.length, 8);
    assert.ok(
      r.relay?.every((a) => !a.accepted),
      JSON.stringify(r.relay?.filter((a) => a.accepted)),
    );
    assert.equal(r.notes, undefined);
  });

  test('implicit TLS endpoint: every check passes, the before-TLS fields are null', async () => {
    const r = await scanSmtp({ host: '127.0.0.1', port: t.port(1), mode: 'implicit', timeout: 3000 });
    assert.equal(r.ehloBeforeTls, null);
    assert.equal(r.starttlsOffered, null);
    assert.equal(r.starttlsAfterTls, false);
    assert.equal(r.authBeforeTls.accepted, null);
    assert.equal(r.starttlsInjection.vulnerable, null);
    assert.deepEqual(r.authAfterTls, ['PLAIN', 'LOGIN']);
    assert.equal(r.vrfy.enabled, false);
    assert.equal(r.expn.enabled, false);
  });
});
