/**
 * The DKIM private key: read once into a KeyObject, its type decides the algorithm (RFC 6376 rsa-sha256,
 * RFC 8463 ed25519-sha256). Key material never reaches an error message: errors name the problem only.
 */

import { createPrivateKey, KeyObject } from 'node:crypto';
import { InputError } from '../../core/errors.js';
import { Secret } from '../../core/secret.js';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface SigningKey {
  readonly algorithm: DkimAlgorithm;
  readonly key: KeyObject;
}

/** RFC 8301 §3.2: signers MUST use at least 1024 bits; verifiers need only handle up to 4096. */
const MIN_RSA_BITS = 1024;
const MAX_RSA_BITS = 4096;

const KEY_HINT =
  'pass a PEM private key (PKCS#8 "BEGIN PRIVATE KEY", or "BEGIN RSA PRIVATE KEY"), a Secret holding one, ' +
  'or a KeyObject from crypto.createPrivateKey()';

export function loadSigningKey(privateKey: unknown, algorithm: unknown): SigningKey {
  const key = toKeyObject(privateKey);
  if (key.type !== 'private') {
    throw new InputError('EINVALID_ARGUMENT', `DKIM privateKey is a ${key.type} key, not a private key`, {
      hint: KEY_HINT,
    });
  }
  const detected = algorithmOf(key);
  if (algorithm !== undefined && algorithm !== detected) {
    if (algorithm !== 'rsa-sha256' && algorithm !== 'ed25519-sha256') {
      throw new InputError('EINVALID_ARGUMENT', "DKIM algorithm must be 'rsa-sha256' or 'ed25519-sha256'");
    }
    throw new InputError(
      'EINVALID_ARGUMENT',
      `DKIM algorithm ${algorithm} does not match the private key, which is a ${key.asymmetricKeyType} key`,
      { hint: `omit algorithm to use ${detected}, or pass a matching key` },
    );
  }
  return { algorithm: detected, key };
}

function toKeyObject(privateKey: unknown): KeyObject {
  if (privateKey instanceof KeyObject) return privateKey;
  let pem: string;
  if (typeof privateKey === 'string') pem = privateKey;
  else if (privateKey instanceof Secret) pem = privateKey.reveal();
  else
    throw new InputError('EINVALID_ARGUMENT', 'DKIM privateKey is missing or of the wrong type', {
      hint: KEY_HINT,
    });
  if (!pem.includes('-----BEGIN')) {
    throw new InputError('EINVALID_ARGUMENT', 'DKIM privateKey is not PEM (no "-----BEGIN" line)', {
      hint: KEY_HINT,
    });
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    // Only the error code travels on: OpenSSL messages do not quote the key, but nothing here relies on that.
    const code = (error as { code?: unknown }).code;
    const encrypted = code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(pem.slice(0, 200));
    throw new InputError(
      'EINVALID_ARGUMENT',
      encrypted
        ? 'DKIM privateKey is encrypted and no passphrase can be given here'
        : `DKIM privateKey could not be read as a private key${typeof code === 'string' ? ` (${code})` : ''}`,
      {
        hint: encrypted ? 'pass crypto.createPrivateKey({ key, passphrase }) as the privateKey' : KEY_HINT,
      },
    );
  }
}

function algorithmOf(key: KeyObject): DkimAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519-sha256';
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new InputError(
        'EINVALID_ARGUMENT',
        `DKIM RSA key has ${bits} bits; RFC 8301 §3.2 needs ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`,
        { hint: 'use a 2048-bit RSA key, ideally alongside an Ed25519 one' },
      );
    }
    return 'rsa-sha256';
  }
  throw new InputError('EINVALID_ARGUMENT', `DKIM cannot sign with a ${type ?? 'unknown'} key`, {
    hint: 'DKIM signs with RSA (rsa-sha256) or Ed25519 (ed25519-sha256, RFC 8463) keys; RSA-PSS keys do not work',
  });
}
