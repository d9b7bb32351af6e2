/**
 * `postern cert create`: a server certificate and key (self-signed, or signed by a new or existing local CA),
 * what `openssl req -new -x509` does, without OpenSSL. Keys are written 0600 whatever the umask.
 */
import { constants } from 'node:fs';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, createCertificate, type GeneratedCertificate, type KeyType } from '../../tls/index.js';
import { CliError } from '../cli-error.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface CreateFlags {
  readonly cn: string;
  readonly san: readonly string[];
  readonly days: number;
  readonly key: KeyType;
  readonly out: string;
  readonly ca?: boolean | undefined;
  readonly issuer?: string | undefined;
  readonly org?: string | undefined;
  readonly force?: boolean | undefined;
}

interface Written {
  readonly path: string;
  readonly what: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function writePem(path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(path, text, { mode });
    await chmod(path, mode);
  } catch (err) {
    throw new CliError(EXIT.CANT_CREATE, `cannot write ${path} (${(err as NodeJS.ErrnoException).code})`, {
      cause: err,
    });
  }
}

/** The issuing CA from --issuer DIR (DIR/ca.pem and DIR/ca-key.pem, as `--ca` writes them). */
async function readIssuer(dir: string): Promise<{ cert: string; key: string }> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch {
      throw new CliError(EXIT.NO_INPUT, `--issuer ${dir}: ${join(dir, name)} cannot be read`, {
        hint: 'the folder must hold ca.pem and ca-key.pem, as `postern cert create --ca` writes them',
      });
    }
  };
  return { cert: await read('ca.pem'), key: await read('ca-key.pem') };
}

/** Creates the files and prints what each is for. */
export async function createFiles(flags: CreateFlags, output: Output): Promise<void> {
  if (flags.ca && flags.issuer !== undefined) {
    throw new CliError(
      EXIT.USAGE,
      'give --ca (make a new CA) or --issuer DIR (use an existing one), not both',
    );
  }
  const files = {
    ca: join(flags.out, 'ca.pem'),
    caKey: join(flags.out, 'ca-key.pem'),
    cert: join(flags.out, 'cert.pem'),
    key: join(flags.out, 'key.pem'),
  };
  const planned = flags.ca ? [files.ca, files.caKey, files.cert, files.key] : [files.cert, files.key];
  if (!flags.force) {
    const taken = [];
    for (const path of planned) if (await exists(path)) taken.push(path);
    if (taken.length > 0) {
      throw new CliError(
        EXIT.CANT_CREATE,
        `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}`,
        {
          hint: 'choose another --out folder, or add --force to replace them',
        },
      );
    }
  }
  const issuer = flags.issuer !== undefined ? await readIssuer(flags.issuer) : undefined;
  const san = flags.san
    .flatMap((list) => list.split(','))
    .map((name) => name.trim())
    .filter(Boolean);
  // Library input errors (a malformed SAN, a bad day count) are usage errors here: they came from flags.
  let ca: GeneratedCertificate | undefined;
  let leaf: GeneratedCertificate;
  try {
    ca = flags.ca
      ? await createCa({
          commonName: `${flags.org ?? flags.cn} CA`,
          days: Math.max(flags.days, 3650),
          keyType: flags.key,
          organization: flags.org,
        })
      : undefined;
    leaf = await createCertificate({
      commonName: flags.cn,
      altNames: san.length > 0 ? san : [flags.cn],
      days: flags.days,
      keyType: flags.key,
      organization: flags.org,
      issuer: ca ?? issuer,
    });
  } catch (err) {
    throw new CliError(EXIT.USAGE, (err as Error).message.split(' — ')[0]!, { cause: err });
  }
  try {
    await mkdir(flags.out, { recursive: true });
  } catch (err) {
    throw new CliError(EXIT.CANT_CREATE, `cannot create the folder ${flags.out}`, { cause: err });
  }
  const written: Written[] = [];
  if (ca) {
    await writePem(files.ca, ca.cert, 0o644);
    await writePem(files.caKey, ca.key, 0o600);
    written.push(
      { path: files.ca, what: `the CA certificate: give it to clients (postern send --ca ${files.ca})` },
      { path: files.caKey, what: 'the CA private key (0600): it can sign anything, keep it safe' },
    );
  }
  await writePem(files.cert, leaf.cert, 0o644);
  await writePem(files.key, leaf.key, 0o600);
  const signer = ca ? 'signed by the new CA' : issuer ? `signed by the CA in ${flags.issuer}` : 'self-signed';
  written.push(
    {
      path: files.cert,
      what: `the certificate for ${san.length > 0 ? san.join(', ') : flags.cn}, ${signer}, valid ${flags.days} days`,
    },
    { path: files.key, what: 'its private key (0600)' },
  );
  const s = output.out;
  const width = Math.max(...written.map((w) => w.path.length));
  for (const w of written) output.print(`${s.green('wrote')} ${w.path.padEnd(width)}  ${s.dim(w.what)}`);
  output.print(`${s.dim('pin:')}  sha256/${leaf.spkiSha256}`);
}
