/**
 * tls: 'auto' — a local CA and a server certificate it signs, generated on first start and kept in the data
 * folder, so clients can trust the CA file once and keep verifying names. Never a key shipped in the package.
 *
 * Files in DATADIR/tls/: ca.pem (the trust anchor to give clients), ca.key, cert.pem, key.pem. Keys are
 * written 0600 in a 0700 folder. The server certificate is renewed from the same CA when it nears expiry.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { createCa, createCertificate, type GeneratedCertificate } from './certificates.js';
import { isIpLiteral } from './ip-literal.js';

export interface AutoCertificate {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** PEMs, as loaded. */
  readonly cert: string;
  readonly key: string;
  readonly caCert: string;
  /** True when something was generated in this call. */
  readonly created: boolean;
}

export interface AutoCertificateOptions {
  /** Names for the server certificate; default: localhost, 127.0.0.1, ::1. */
  readonly names?: readonly string[];
  /** Renew the server certificate when it expires within this many days (default 30). */
  readonly renewDays?: number;
}

const DAY_MS = 86_400_000;
const DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1'];

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes via a temp file and rename, so a crash never leaves half a PEM behind. */
async function writePem(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

function usable(certPem: string | undefined, names: readonly string[], renewDays: number): boolean {
  if (!certPem) return false;
  try {
    const cert = new X509Certificate(certPem);
    if (new Date(cert.validTo).getTime() - Date.now() < renewDays * DAY_MS) return false;
    return names.every((name) =>
      isIpLiteral(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined,
    );
  } catch {
    return false;
  }
}

/**
 * Loads the auto certificate from `dataDir`, creating (or renewing) it when needed.
 *
 * @example const auto = await ensureAutoCertificate('./postern-data'); // clients: { ca: auto.caCert }
 */
export async function ensureAutoCertificate(
  dataDir: string,
  options: AutoCertificateOptions = {},
): Promise<AutoCertificate> {
  const names = options.names?.length ? options.names : DEFAULT_NAMES;
  const renewDays = options.renewDays ?? 30;
  const dir = join(dataDir, 'tls');
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let [caCert, caKey, cert, key] = await Promise.all(
      [caFile, caKeyFile, certFile, keyFile].map(readOptional),
    );
    let created = false;
    if (!caCert || !caKey || !usable(caCert, [], renewDays)) {
      const ca = await createCa({ commonName: 'Postern local CA', organization: 'Postern' });
      await writePem(caKeyFile, ca.key, 0o600);
      await writePem(caFile, ca.cert, 0o644);
      caCert = ca.cert;
      caKey = ca.key;
      cert = undefined; // a new CA needs a new server certificate
      created = true;
    }
    if (!cert || !key || !usable(cert, names, renewDays)) {
      const leaf: GeneratedCertificate = await createCertificate({
        commonName: names[0] ?? 'localhost',
        altNames: [...names],
        days: 365,
        issuer: { cert: caCert, key: caKey },
      });
      await writePem(keyFile, leaf.key, 0o600);
      await writePem(certFile, leaf.cert + caCert, 0o644);
      cert = leaf.cert + caCert;
      key = leaf.key;
      created = true;
    }
    return { caFile, certFile, keyFile, cert, key, caCert, created };
  } catch (cause) {
    throw new InputError('ECONFIG', `cannot create or read the automatic certificate in ${dir}`, {
      cause,
      hint: 'check that the data folder is writable, or give tls: { certFile, keyFile }',
    });
  }
}

/**
 * A certificate that lives only in memory (tls: 'auto' without a data folder): for tests and embedding.
 *
 * @example const { cert, key, caCert } = await ephemeralCertificate();
 */
export async function ephemeralCertificate(names: readonly string[] = DEFAULT_NAMES): Promise<{
  cert: string;
  key: string;
  caCert: string;
}> {
  const ca = await createCa({ commonName: 'Postern ephemeral CA' });
  const leaf = await createCertificate({
    commonName: names[0] ?? 'localhost',
    altNames: [...names],
    issuer: ca,
  });
  return { cert: leaf.cert + ca.cert, key: leaf.key, caCert: ca.cert };
}
