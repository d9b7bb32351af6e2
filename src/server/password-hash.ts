/**
 * The password verifiers a server keeps instead of passwords:
 *
 * - scrypt (RFC 7914) for PLAIN and LOGIN, as one self-describing string
 *   `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (ln = log2 N; salt and hash in base64 without padding). The default
 *   N = 2^15, r = 8, p = 1 costs 32 MiB and about 70 ms per check here: slow for a password cracker, still fine
 *   for a login. Verification is constant-time.
 * - SCRAM stored keys in the RFC 5803 form `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64
 *   with padding), for SCRAM-SHA-1/-256. Iterations default to DEFAULT_SCRAM_ITERATIONS (4096 for SHA-1, 10,000
 *   for SHA-256); see there why.
 *
 * Parse errors never quote the string, which is secret-derived.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { InputError } from '../core/errors.js';
import { revealSecret, type SecretLike } from '../core/secret.js';
import {
  DEFAULT_SCRAM_ITERATIONS,
  SCRAM_SALT_BYTES,
  type ScramHashName,
  type ScramStoredCredentials,
  saslprep,
} from '../sasl/index.js';
import {
  deriveScramKeys,
  MAX_ITERATIONS,
  MIN_ITERATIONS,
  SCRAM_HASHES,
  type ScramHash,
} from '../sasl/scram-core.js';

export interface ScryptParameters {
  /** CPU/memory cost N, a power of two (Node calls it `cost`). */
  readonly cost: number;
  /** Block size r. */
  readonly blockSize: number;
  /** Parallelization p. */
  readonly parallelization: number;
}

export const DEFAULT_SCRYPT: ScryptParameters = { cost: 2 ** 15, blockSize: 8, parallelization: 1 };

export interface ScryptHash extends ScryptParameters {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const SCRYPT_SALT_BYTES = 16;
const SCRYPT_HASH_BYTES = 32;
/**
 * Ceilings for parameters read from a file, so a damaged or hostile entry cannot make every login allocate
 * gigabytes: 128·N·r bytes at most 256 MiB, p at most 16.
 */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const MAX_PARALLELIZATION = 16;

const SCRAM_HASH: Readonly<Record<ScramHashName, ScramHash>> = {
  'SHA-1': SCRAM_HASHES['SCRAM-SHA-1'],
  'SHA-256': SCRAM_HASHES['SCRAM-SHA-256'],
};

const B64 = '[A-Za-z0-9+/]+';
const SCRYPT_FORMAT = new RegExp(
  `^\\$scrypt\\$ln=([0-9]{1,2}),r=([0-9]{1,3}),p=([0-9]{1,2})\\$(${B64})\\$(${B64})$`,
);
/** RFC 5803 §3; RFC 3112 lets whitespace surround the "$" separators of authPassword. */
const SCRAM_FORMAT =
  /^(SCRAM-SHA-1|SCRAM-SHA-256)\s*\$\s*([1-9][0-9]{0,9}):([A-Za-z0-9+/=]+)\s*\$\s*([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/**
 * Hashes a password with scrypt into `$scrypt$ln=…,r=…,p=…$salt$hash`.
 * @example await hashPassword(new Secret('pencil'), { cost: 2 ** 10 })
 */
export async function hashPassword(
  password: SecretLike,
  parameters: Partial<ScryptParameters> = {},
): Promise<string> {
  const params: ScryptParameters = { ...DEFAULT_SCRYPT, ...parameters };
  checkScryptParameters(params, 'EINVALID_ARGUMENT');
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const hash = await scryptAsync(revealSecret(password), salt, SCRYPT_HASH_BYTES, params);
  return formatScryptHash({ ...params, salt, hash });
}

/** Checks a password against an scrypt string in constant time; throws InputError 'ECONFIG' if it is malformed. */
export async function verifyPasswordHash(
  password: SecretLike,
  encoded: string | ScryptHash,
): Promise<boolean> {
  const stored = typeof encoded === 'string' ? parseScryptHash(encoded) : encoded;
  const computed = await scryptAsync(revealSecret(password), stored.salt, stored.hash.length, stored);
  return timingSafeEqual(computed, stored.hash);
}

export function formatScryptHash(value: ScryptHash): string {
  const ln = Math.log2(value.cost);
  const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
  if (!Number.isInteger(ln)) throw invalid('EINVALID_ARGUMENT', 'the scrypt cost N must be a power of two');
  return `$scrypt$ln=${ln},r=${value.blockSize},p=${value.parallelization}$${b64(value.salt)}$${b64(value.hash)}`;
}

/** Throws InputError 'ECONFIG' for anything but a well-formed scrypt string with sane parameters. */
export function parseScryptHash(encoded: string): ScryptHash {
  const match = SCRYPT_FORMAT.exec(encoded);
  if (!match) throw invalid('ECONFIG', 'the scrypt hash is not "$scrypt$ln=N,r=N,p=N$salt$hash"');
  const [, ln, r, p, salt, hash] = match as unknown as [string, string, string, string, string, string];
  const params = { cost: 2 ** Number(ln), blockSize: Number(r), parallelization: Number(p) };
  checkScryptParameters(params, 'ECONFIG');
  const value = { ...params, salt: strictBase64(salt, false), hash: strictBase64(hash, false) };
  if (value.salt.length < 8 || value.hash.length < 16 || value.hash.length > 64) {
    throw invalid('ECONFIG', 'the scrypt salt or hash has an implausible length');
  }
  return value;
}

/**
 * Derives SCRAM stored credentials from a password (SASLprep'd as RFC 5802 §2.2 asks) with a fresh salt.
 * Throws InputError 'EINVALID_ARGUMENT' for a password SASLprep refuses or too few iterations.
 */
export async function deriveScramCredentials(
  password: SecretLike,
  hash: ScramHashName,
  options: { readonly iterations?: number; readonly salt?: Buffer } = {},
): Promise<ScramStoredCredentials> {
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS[hash];
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw invalid(
      'EINVALID_ARGUMENT',
      `SCRAM needs between ${MIN_ITERATIONS} and ${MAX_ITERATIONS} iterations`,
    );
  }
  let normalized: string;
  try {
    normalized = saslprep(revealSecret(password), { label: 'password' });
  } catch (cause) {
    throw new InputError(
      'EINVALID_ARGUMENT',
      'the password cannot be used with SCRAM (SASLprep refuses it)',
      {
        cause,
      },
    );
  }
  if (normalized === '') throw invalid('EINVALID_ARGUMENT', 'the password is empty after SASLprep');
  const salt = options.salt ?? randomBytes(SCRAM_SALT_BYTES);
  const keys = await deriveScramKeys(SCRAM_HASH[hash], normalized, salt, iterations);
  return { iterations, salt, storedKey: keys.storedKey, serverKey: keys.serverKey };
}

/**
 * The RFC 5803 string for a password.
 * @example await createScramStoredKey('pencil', 'SHA-256') → 'SCRAM-SHA-256$10000:…$…:…'
 */
export async function createScramStoredKey(
  password: SecretLike,
  hash: ScramHashName,
  options: { readonly iterations?: number; readonly salt?: Buffer } = {},
): Promise<string> {
  return formatScramStoredKey(hash, await deriveScramCredentials(password, hash, options));
}

export function formatScramStoredKey(hash: ScramHashName, credentials: ScramStoredCredentials): string {
  const { iterations, salt, storedKey, serverKey } = credentials;
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  return `SCRAM-${hash}$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/**
 * Reads an RFC 5803 string; throws InputError 'ECONFIG' when it is malformed, has keys of the wrong size, or
 * fewer than 4096 iterations (clients refuse those, RFC 7677 §4).
 */
export function parseScramStoredKey(text: string): {
  hash: ScramHashName;
  credentials: ScramStoredCredentials;
} {
  const match = SCRAM_FORMAT.exec(text);
  if (!match)
    throw invalid('ECONFIG', 'the SCRAM key is not "SCRAM-SHA-…$iterations:salt$StoredKey:ServerKey"');
  const [, mechanism, iterationText, salt, storedKey, serverKey] = match as unknown as string[];
  const hash: ScramHashName = mechanism === 'SCRAM-SHA-1' ? 'SHA-1' : 'SHA-256';
  const iterations = Number(iterationText);
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw invalid(
      'ECONFIG',
      `the SCRAM key has ${iterations} iterations; ${MIN_ITERATIONS} to ${MAX_ITERATIONS} work`,
    );
  }
  const length = SCRAM_HASH[hash].length;
  const credentials = {
    iterations,
    salt: strictBase64(salt!, true),
    storedKey: strictBase64(storedKey!, true),
    serverKey: strictBase64(serverKey!, true),
  };
  if (
    credentials.salt.length === 0 ||
    credentials.storedKey.length !== length ||
    credentials.serverKey.length !== length
  ) {
    throw invalid('ECONFIG', `the ${mechanism} salt is empty or its keys are not ${length} bytes`);
  }
  return { hash, credentials };
}

function checkScryptParameters(params: ScryptParameters, code: 'ECONFIG' | 'EINVALID_ARGUMENT'): void {
  const { cost, blockSize, parallelization } = params;
  const powerOfTwo = Number.isInteger(cost) && cost >= 2 && (cost & (cost - 1)) === 0;
  if (
    !powerOfTwo ||
    !Number.isInteger(blockSize) ||
    blockSize < 1 ||
    !Number.isInteger(parallelization) ||
    parallelization < 1 ||
    parallelization > MAX_PARALLELIZATION ||
    128 * cost * blockSize > MAX_SCRYPT_MEMORY
  ) {
    throw invalid(code, 'scrypt needs N a power of two ≥ 2, r ≥ 1, 1 ≤ p ≤ 16, and 128·N·r ≤ 256 MiB');
  }
}

function scryptAsync(
  password: string,
  salt: Buffer,
  length: number,
  params: ScryptParameters,
): Promise<Buffer> {
  const { cost: N, blockSize: r, parallelization: p } = params;
  // Node's default maxmem (32 MiB) is just below what N = 2^15, r = 8 needs; allow what the parameters need.
  const maxmem = 128 * N * r * 2;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Buffer.from(…, 'base64') skips what it does not understand; a stored field must decode exactly. */
function strictBase64(text: string, padded: boolean): Buffer {
  const bytes = Buffer.from(text, 'base64');
  const canonical = bytes.toString('base64');
  if ((padded ? canonical : canonical.replace(/=+$/, '')) !== text) {
    throw invalid('ECONFIG', 'a stored salt or key is not canonical base64');
  }
  return bytes;
}

function invalid(code: 'ECONFIG' | 'EINVALID_ARGUMENT', message: string): InputError {
  return new InputError(code, message);
}
