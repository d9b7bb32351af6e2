/**
 * SCRAM's key schedule (RFC 5802 §3), shared by the client half and a future server half:
 *
 *   SaltedPassword  := Hi(Normalize(password), salt, i)      ClientKey := HMAC(SaltedPassword, "Client Key")
 *   StoredKey       := H(ClientKey)                          ServerKey := HMAC(SaltedPassword, "Server Key")
 *   ClientProof     := ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   ServerSignature := HMAC(ServerKey, AuthMessage)
 *
 * A server keeps only StoredKey and ServerKey (RFC 5803), which is why they are separate outputs here.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** The SCRAM families this package speaks, by mechanism name without "-PLUS". */
export type ScramFamily = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

export interface ScramHash {
  readonly family: ScramFamily;
  /** node:crypto's name for H. */
  readonly algorithm: 'sha1' | 'sha256';
  /** Output size of H in bytes, which is also Hi's dkLen. */
  readonly length: number;
}

export const SCRAM_HASHES: Readonly<Record<ScramFamily, ScramHash>> = {
  'SCRAM-SHA-1': { family: 'SCRAM-SHA-1', algorithm: 'sha1', length: 20 },
  'SCRAM-SHA-256': { family: 'SCRAM-SHA-256', algorithm: 'sha256', length: 32 },
};

/** RFC 7677 §4 / RFC 5802 §5.1: fewer iterations than this make a stolen exchange cheap to brute-force. */
export const MIN_ITERATIONS = 4096;
/**
 * The most iterations a client does before refusing. Not in the RFC: without a ceiling a hostile server could
 * make the client burn minutes of CPU; ten million is well above the hardest settings in use (about 600,000).
 */
export const MAX_ITERATIONS = 10_000_000;
/** Random bytes in a client or server nonce; base64 of 24 bytes is 32 printable characters without ",". */
export const NONCE_BYTES = 24;

export interface ScramKeys {
  readonly clientKey: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** Hi() is PBKDF2 with HMAC-H and dkLen = |H| (RFC 5802 §2.2); runs on the thread pool, not the event loop. */
export async function deriveScramKeys(
  hash: ScramHash,
  normalizedPassword: string,
  salt: Buffer,
  iterations: number,
): Promise<ScramKeys> {
  const salted = await pbkdf2Async(normalizedPassword, salt, iterations, hash.length, hash.algorithm);
  const clientKey = hmac(hash, salted, 'Client Key');
  return {
    clientKey,
    storedKey: createHash(hash.algorithm).update(clientKey).digest(),
    serverKey: hmac(hash, salted, 'Server Key'),
  };
}

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash.algorithm, key).update(data).digest();
}

/** ClientProof := ClientKey XOR ClientSignature, ClientSignature := HMAC(StoredKey, AuthMessage). */
export function computeClientProof(hash: ScramHash, keys: ScramKeys, authMessage: string): Buffer {
  return xor(keys.clientKey, hmac(hash, keys.storedKey, authMessage));
}

export function computeServerSignature(hash: ScramHash, serverKey: Buffer, authMessage: string): Buffer {
  return hmac(hash, serverKey, authMessage);
}

/**
 * The server's check (RFC 5802 §3): recover ClientKey = ClientProof XOR ClientSignature and compare
 * H(ClientKey) with StoredKey, in constant time.
 */
export function verifyClientProof(
  hash: ScramHash,
  storedKey: Buffer,
  authMessage: string,
  proof: Buffer,
): boolean {
  if (proof.length !== hash.length) return false;
  const clientKey = xor(proof, hmac(hash, storedKey, authMessage));
  return constantTimeEqual(createHash(hash.algorithm).update(clientKey).digest(), storedKey);
}

/** timingSafeEqual that answers false for different lengths instead of throwing. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** AuthMessage := client-first-message-bare "," server-first-message "," client-final-message-without-proof. */
export function authMessage(
  clientFirstBare: string,
  serverFirst: string,
  clientFinalWithoutProof: string,
): string {
  return `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
}

/** A fresh nonce: NONCE_BYTES random bytes in base64 (RFC 5802 §5.1 asks for printable characters without ","). */
export function createNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64');
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
