/**
 * A test PKI: one CA and one server leaf for "localhost" (SANs DNS:localhost, IP:127.0.0.1, IP:::1),
 * ECDSA P-256, written as PEM files into a private temp dir. Memoised per test process.
 *
 * Made by our own src/tls/certificates.ts (createCa/createCertificate). POSTERN_TEST_PKI=openssl makes
 * it with `openssl req`/`openssl x509` instead, to rule our generator out when a peer rejects a cert.
 *
 * Files: ca.pem (0644), ca.key (0600), server.pem (0644, the leaf only), server.key (0600).
 * Keys are root-owned 0600: Postfix reads them as root before dropping privileges, and the other
 * peers run as the test's own user.
 */
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCa, createCertificate } from '../../src/tls/certificates.js';
import { tempDir } from './tmp.js';

const run = promisify(execFile);

export interface TestPki {
  /** PEM of the CA certificate (trust anchor to give to clients). */
  caCert: string;
  caKey: string;
  /** PEM of the server leaf (CN=localhost). */
  serverCert: string;
  serverKey: string;
  /** Which generator made it. */
  generator: 'postern' | 'openssl';
  /** Directory holding the files below. */
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

let memo: Promise<TestPki> | undefined;

/** The process-wide test PKI (created on first call). */
export function testPki(): Promise<TestPki> {
  memo ??= createPki().catch((err: unknown) => {
    memo = undefined;
    throw err;
  });
  return memo;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`testPki: openssl ${args[0]} failed: ${e.stderr || e.message}`);
  }
}

const ALT_NAMES = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];

async function createPki(): Promise<TestPki> {
  const dir = await tempDir('pki');
  return process.env['POSTERN_TEST_PKI'] === 'openssl' ? withOpenssl(dir) : withPostern(dir);
}

async function withPostern(dir: string): Promise<TestPki> {
  const ca = await createCa({ commonName: 'Postern Test CA', organization: 'Postern tests' });
  const leaf = await createCertificate({
    commonName: 'localhost',
    altNames: ALT_NAMES,
    days: 825,
    issuer: { cert: ca.cert, key: ca.key },
  });
  const files = {
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca.key'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
  };
  await Promise.all([
    writeFile(files.caFile, ca.cert, { mode: 0o644 }),
    writeFile(files.caKeyFile, ca.key, { mode: 0o600 }),
    writeFile(files.certFile, leaf.cert, { mode: 0o644 }),
    writeFile(files.keyFile, leaf.key, { mode: 0o600 }),
  ]);
  return {
    caCert: ca.cert,
    caKey: ca.key,
    serverCert: leaf.cert,
    serverKey: leaf.key,
    generator: 'postern',
    dir,
    caFile: files.caFile,
    certFile: files.certFile,
    keyFile: files.keyFile,
  };
}

async function withOpenssl(dir: string): Promise<TestPki> {
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server.key');
  const csrFile = join(dir, 'server.csr');
  const extFile = join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      caKeyFile,
      '-out',
      caFile,
      '-days',
      '3650',
      '-subj',
      '/O=Postern tests/CN=Postern Test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'subjectKeyIdentifier=hash',
    ],
    dir,
  );
  await openssl(['req', '-new', ...ec, '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=localhost'], dir);
  await writeFile(
    extFile,
    [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = ${ALT_NAMES.join(', ')}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  const serial = `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex')}`;
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csrFile,
      '-CA',
      caFile,
      '-CAkey',
      caKeyFile,
      '-set_serial',
      serial,
      '-days',
      '825',
      '-sha256',
      '-extfile',
      extFile,
      '-out',
      certFile,
    ],
    dir,
  );
  await Promise.all([
    chmod(caFile, 0o644),
    chmod(certFile, 0o644),
    chmod(caKeyFile, 0o600),
    chmod(keyFile, 0o600),
  ]);
  const [caCert, caKey, serverCert, serverKey] = await Promise.all(
    [caFile, caKeyFile, certFile, keyFile].map((f) => readFile(f, 'utf8')),
  );
  return {
    caCert: caCert!,
    caKey: caKey!,
    serverCert: serverCert!,
    serverKey: serverKey!,
    generator: 'openssl',
    dir,
    caFile,
    certFile,
    keyFile,
  };
}
