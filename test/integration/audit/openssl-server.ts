/**
 * `openssl s_server` (test/helpers/openssl-server.ts) as a scan target, with the test PKI's
 * ECDSA leaf and an RSA leaf from the same CA (so both ECDSA and RSA suites can be chosen), started and
 * stopped by the test. Also: what `openssl ciphers -s` says a cipher spec enables, as the expected set.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteByCode } from '../../../src/audit/tls/suites.js';
import { createCertificate } from '../../../src/tls/certificates.js';
import { testPki } from '../../helpers/certs.js';
import { type OpensslServer, startOpensslServer as startServer } from '../../helpers/openssl-server.js';
import { tempDir } from '../../helpers/tmp.js';

let rsaMemo: Promise<{ certFile: string; keyFile: string }> | undefined;

function rsaLeaf(): Promise<{ certFile: string; keyFile: string }> {
  rsaMemo ??= (async () => {
    const pki = await testPki();
    const leaf = await createCertificate({
      commonName: 'localhost',
      altNames: ['DNS:localhost', 'IP:127.0.0.1'],
      keyType: 'rsa2048',
      issuer: { cert: pki.caCert, key: pki.caKey },
    });
    const dir = await tempDir('audit-rsa');
    const certFile = join(dir, 'rsa.pem');
    const keyFile = join(dir, 'rsa.key');
    await writeFile(certFile, leaf.cert);
    await writeFile(keyFile, leaf.key, { mode: 0o600 });
    return { certFile, keyFile };
  })();
  return rsaMemo;
}

export type { OpensslServer };

/** Starts `openssl s_server` on 127.0.0.1 with both certificates and `args` (e.g. ['-tls1_2', '-cipher', …]). */
export async function startOpensslServer(args: readonly string[]): Promise<OpensslServer> {
  const pki = await testPki();
  const rsa = await rsaLeaf();
  return startServer(pki, ['-dcert', rsa.certFile, '-dkey', rsa.keyFile, ...args]);
}

/**
 * The suites `openssl ciphers -s -<version> SPEC` enables, as IANA names in OpenSSL's order, less those our
 * server cannot use (DSS: no DSA certificate; PSK and SRP: no identities configured).
 */
export function expectedSuites(versionFlag: string, spec: string): string[] {
  const out = execFileSync('openssl', ['ciphers', '-V', '-s', `-${versionFlag}`, spec], { encoding: 'utf8' });
  const names: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*0x([0-9A-F]{2}),0x([0-9A-F]{2})/.exec(line);
    if (!m) continue;
    const suite = suiteByCode(Number.parseInt(`${m[1]}${m[2]}`, 16));
    if (suite.auth === 'DSS' || suite.kx.includes('PSK') || suite.kx === 'SRP') continue;
    names.push(suite.name);
  }
  return names;
}
