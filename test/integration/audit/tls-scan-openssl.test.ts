// scanTls against `openssl s_server` (OpenSSL 3.0), configured several ways: the scan must report exactly
// the protocols and suites each configuration enables (per `openssl ciphers -s`), and the preference.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { scanTls } from '../../../src/audit/tls/index.js';
import type { ProtocolName, TlsScanResult } from '../../../src/audit/types.js';
import { peerSkip } from '../../helpers/peers.js';
import { expectedSuites, type OpensslServer, startOpensslServer } from './openssl-server.js';

const skip = peerSkip('openssl');
const servers: OpensslServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function scan(args: string[]): Promise<{ result: TlsScanResult; ms: number; server: OpensslServer }> {
  const server = await startOpensslServer(args);
  servers.push(server);
  const started = performance.now();
  const result = await scanTls({ host: '127.0.0.1', port: server.port, mode: 'implicit', timeout: 5000 });
  return { result, ms: performance.now() - started, server };
}

function offered(r: TlsScanResult): ProtocolName[] {
  return (Object.keys(r.protocols) as ProtocolName[]).filter((p) => r.protocols[p] === true);
}

const names = (r: TlsScanResult, p: ProtocolName) => r.ciphers[p].map((s) => s.name);
const sorted = (list: readonly string[]) => [...list].sort();

describe('scanTls against openssl s_server', { skip }, () => {
  test('TLS 1.2 only, two suites, client order', async (t) => {
    const spec = 'ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA';
    const { result, ms } = await scan(['-tls1_2', '-cipher', spec]);
    t.diagnostic(`scan took ${ms.toFixed(0)} ms over ${result.connections} connections`);
    assert.deepEqual(offered(result), ['TLSv1.2']);
    for (const p of ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.3'] as const)
      assert.equal(result.protocols[p], false, p);
    assert.deepEqual(names(result, 'TLSv1.2'), [
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_RSA_WITH_AES_256_CBC_SHA',
    ]);
    assert.deepEqual(sorted(names(result, 'TLSv1.2')), sorted(expectedSuites('tls1_2', spec)));
    assert.equal(result.serverPreference['TLSv1.2'], false);
    assert.equal(result.secureRenegotiation, true);
    assert.equal(result.compression, false);
    assert.equal(result.fallbackScsv, null, 'one protocol: nothing to fall back to');
    assert.deepEqual(result.dhBits, []);
    // ECDHE over TLS 1.2: OpenSSL 3.0's default curves.
    assert.deepEqual(result.groups, ['secp521r1', 'x448', 'secp384r1', 'x25519', 'secp256r1']);
    assert.ok(result.connections > 0);
  });

  test('server preference: the order the server was given comes back', async () => {
    const order = [
      'DHE-RSA-AES128-SHA',
      'AES256-SHA',
      'ECDHE-ECDSA-AES256-SHA',
      'ECDHE-RSA-AES128-GCM-SHA256',
    ];
    const { result } = await scan(['-tls1_2', '-serverpref', '-cipher', order.join(':')]);
    assert.deepEqual(offered(result), ['TLSv1.2']);
    assert.equal(result.serverPreference['TLSv1.2'], true);
    assert.deepEqual(names(result, 'TLSv1.2'), expectedSuites('tls1_2', order.join(':')));
    assert.deepEqual(
      result.ciphers['TLSv1.2'].map((s) => s.openssl),
      order,
    );
    assert.deepEqual(result.dhBits, [2048]);
  });

  test('TLS 1.0 at security level 0', async () => {
    const spec = 'DEFAULT:@SECLEVEL=0';
    const { result } = await scan(['-tls1', '-cipher', spec]);
    assert.deepEqual(offered(result), ['TLSv1.0']);
    assert.deepEqual(sorted(names(result, 'TLSv1.0')), sorted(expectedSuites('tls1', spec)));
    assert.ok(result.ciphers['TLSv1.0'].every((s) => s.weaknesses.includes('CBC')));
  });

  test('TLS 1.3 only: suites, server order, groups via key_share / HelloRetryRequest', async () => {
    const { result } = await scan([
      '-tls1_3',
      '-serverpref',
      '-ciphersuites',
      'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
      '-groups',
      'X25519:P-384:ffdhe3072',
    ]);
    assert.deepEqual(offered(result), ['TLSv1.3']);
    assert.deepEqual(names(result, 'TLSv1.3'), ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256']);
    assert.equal(result.serverPreference['TLSv1.3'], true);
    assert.deepEqual(result.groups, ['secp384r1', 'x25519', 'ffdhe3072']);
    assert.equal(result.secureRenegotiation, null);
    assert.equal(result.compression, null);
    assert.ok(result.notes.some((n) => /renegotiation/.test(n)));
  });

  test('TLS 1.0–1.2 with every suite OpenSSL has (anon, NULL, CAMELLIA, ARIA, …), no TLS 1.3', async () => {
    const spec = 'ALL:COMPLEMENTOFALL:@SECLEVEL=0';
    const { result } = await scan(['-no_tls1_3', '-cipher', spec]);
    assert.deepEqual(offered(result), ['TLSv1.0', 'TLSv1.1', 'TLSv1.2']);
    for (const [p, flag] of [
      ['TLSv1.0', 'tls1'],
      ['TLSv1.1', 'tls1_1'],
      ['TLSv1.2', 'tls1_2'],
    ] as const) {
      assert.deepEqual(sorted(names(result, p)), sorted(expectedSuites(flag, spec)), p);
    }
    const tls12 = result.ciphers['TLSv1.2'];
    assert.ok(tls12.length > MAX_ONE_HELLO_SUITES_HINT, 'more suites than fit one small hello');
    assert.ok(tls12.some((s) => s.weaknesses.includes('anon')));
    assert.ok(tls12.some((s) => s.weaknesses.includes('NULL')));
    assert.equal(result.fallbackScsv, true);
    assert.equal(result.secureRenegotiation, true);
    assert.deepEqual(result.dhBits, [2048]);
  });

  test('OpenSSL defaults: TLS 1.2 + 1.3, fallback SCSV left to TLS 1.3, all ten groups; fast', async (t) => {
    const { result, ms } = await scan([]);
    t.diagnostic(`full scan of openssl s_server: ${ms.toFixed(0)} ms, ${result.connections} connections`);
    assert.deepEqual(offered(result), ['TLSv1.2', 'TLSv1.3']);
    assert.deepEqual(sorted(names(result, 'TLSv1.2')), sorted(expectedSuites('tls1_2', 'DEFAULT')));
    assert.deepEqual(names(result, 'TLSv1.3'), [
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
      'TLS_AES_128_GCM_SHA256',
    ]);
    assert.equal(result.serverPreference['TLSv1.2'], false);
    // TLS 1.3 has its own downgrade sentinel (RFC 8446 §4.1.3): no SCSV verdict, and so no finding.
    assert.equal(result.fallbackScsv, null);
    assert.ok(
      result.notes.includes("TLS_FALLBACK_SCSV not tested: TLS 1.3's downgrade protection applies"),
      result.notes.join('\n'),
    );
    assert.equal(result.groups.length, 10);
    assert.ok(ms < 5000, `scan took ${ms} ms`);
  });

  test('s_server serves one client at a time: held busy, the first probes time out; retried alone, all found', async (t) => {
    const spec = 'ALL:@SECLEVEL=0';
    const server = await startOpensslServer(['-no_tls1_3', '-cipher', spec]);
    servers.push(server);
    const timeout = 600;
    // A silent client holds s_server for 1.5 probe timeouts: the first wave of probes (SSLv2, SSLv3, TLS 1.0,
    // the start of TLS 1.1) sits in the accept queue until it times out; the next wave is answered.
    const hold = net.connect(server.port, '127.0.0.1');
    hold.on('error', () => {});
    await once(hold, 'connect');
    const release = setTimeout(() => hold.destroy(), timeout * 1.5);
    const started = performance.now();
    const result = await scanTls({ host: '127.0.0.1', port: server.port, mode: 'implicit', timeout });
    clearTimeout(release);
    hold.destroy();
    t.diagnostic(
      `held scan: ${(performance.now() - started).toFixed(0)} ms, ${result.connections} connections`,
    );
    assert.deepEqual(offered(result), ['TLSv1.0', 'TLSv1.1', 'TLSv1.2'], result.notes.join('\n'));
    for (const p of ['SSLv2', 'SSLv3', 'TLSv1.3'] as const) assert.equal(result.protocols[p], false, p);
    for (const [p, flag] of [
      ['TLSv1.0', 'tls1'],
      ['TLSv1.1', 'tls1_1'],
      ['TLSv1.2', 'tls1_2'],
    ] as const) {
      assert.deepEqual(sorted(names(result, p)), sorted(expectedSuites(flag, spec)), p);
    }
    assert.ok(!result.notes.some((n) => /no answer|incomplete/.test(n)), result.notes.join('\n'));
  });
});

// Loose lower bound: OpenSSL's full list for TLS 1.2 is far longer than a handful of suites.
const MAX_ONE_HELLO_SUITES_HINT = 60;
