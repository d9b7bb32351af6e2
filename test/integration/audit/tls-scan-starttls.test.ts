// scanTls over STARTTLS against Postern's own server: every probe connection greets, EHLOs and STARTTLSes
// first (openTlsProbe), and the result is the server's intermediate profile, nothing more.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scanTls } from '../../../src/audit/tls/index.js';
import { TLS_PROFILES } from '../../../src/tls/server-profiles.js';
import { peerSkip } from '../../helpers/peers.js';
import { startServer, type TestServer } from '../server/harness.js';
import { expectedSuites } from './openssl-server.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

describe('scanTls over STARTTLS', () => {
  test("Postern's server: TLS 1.2 and 1.3, forward-secret AEAD suites of its profile, no legacy", async (t) => {
    const started = performance.now();
    const r = await scanTls({ host: '127.0.0.1', port: server.port(), mode: 'starttls', timeout: 5000 });
    t.diagnostic(
      `STARTTLS scan: ${(performance.now() - started).toFixed(0)} ms, ${r.connections} connections`,
    );
    assert.deepEqual(r.protocols, {
      SSLv2: false,
      SSLv3: false,
      'TLSv1.0': false,
      'TLSv1.1': false,
      'TLSv1.2': true,
      'TLSv1.3': true,
    });
    const tls12 = r.ciphers['TLSv1.2'];
    assert.ok(tls12.length > 0);
    assert.ok(tls12.every((s) => s.forwardSecrecy && s.aead && s.weaknesses.length === 0));
    // The auto certificate is ECDSA, so of the profile's list exactly the ECDSA suites remain.
    assert.equal(TLS_PROFILES.intermediate.honorCipherOrder, false);
    assert.equal(r.serverPreference['TLSv1.2'], false);
    assert.equal(r.fallbackScsv, null, "TLS 1.3's downgrade protection applies");
    assert.equal(r.secureRenegotiation, true);
    assert.equal(r.compression, false);
    assert.deepEqual(r.groups, ['secp384r1', 'x25519', 'secp256r1']);
    assert.deepEqual(r.notes, ["TLS_FALLBACK_SCSV not tested: TLS 1.3's downgrade protection applies"]);
    if (!peerSkip('openssl')) {
      const expected = expectedSuites('tls1_2', TLS_PROFILES.intermediate.ciphers ?? '').filter((n) =>
        n.includes('_ECDSA_'),
      );
      assert.deepEqual(tls12.map((s) => s.name).sort(), expected.sort());
    }
  });
});
