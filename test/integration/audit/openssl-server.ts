/**
 * `openssl s_server` as a scan target: a private instance on a free loopback port with the test PKI's
 * ECDSA leaf and an RSA leaf from the same CA (so both ECDSA and RSA suites can be chosen), started and
 * stopped by the test. Also: what `openssl ciphers -s` says a cipher spec enables, as the expected set.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteByCode } from '../../../src/audit/tls/suites.js';
import { createCertificate } from '../../../src/tls/certificates.js';
import { testPki } from '../../helpers/certs.js';
import { onExit } from '../../helpers/cleanup.js';
import { freePort, waitForListening } from '../../helpers/ports.js';
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

export interface OpensslServer {
  readonly port: number;
  /** What s_server printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `openssl s_server` on 127.0.0.1 with both certificates and `args` (e.g. ['-tls1_2', '-cipher', …]). */
export async function startOpensslServer(args: readonly string[]): Promise<OpensslServer> {
  const pki = await testPki();
  const rsa = await rsaLeaf();
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let output = '';
    const child: ChildProcess = spawn(
      'openssl',
      [
        's_server',
        '-accept',
        `127.0.0.1:${port}`,
        '-cert',
        pki.certFile,
        '-key',
        pki.keyFile,
        '-dcert',
        rsa.certFile,
        '-dkey',
        rsa.keyFile,
        '-quiet',
        ...args,
      ],
      // stdin stays an open pipe: s_server treats EOF on stdin as "quit".
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const unregister = onExit(() => child.kill('SIGKILL'), `kill -9 ${child.pid} 2>/dev/null\n`);
    const stop = async () => {
      unregister();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    };
    try {
      await Promise.race([
        waitForListening(port),
        exited.then(() => {
          throw new Error(`openssl s_server exited: ${output}`);
        }),
      ]);
      return { port, output: () => output, stop };
    } catch (err) {
      await stop();
      if (attempt >= 2 || !/in use/i.test(output)) throw err;
    }
  }
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
