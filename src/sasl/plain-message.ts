/**
 * The PLAIN message (RFC 4616 §2): [authzid] NUL authcid NUL passwd, UTF-8. Shared by the client half and a
 * future server half; a decoded password comes back as a Secret so a server cannot log it by accident.
 */
import { isUtf8 } from 'node:buffer';
import { AuthError } from '../core/errors.js';
import { revealSecret, Secret, type SecretLike } from '../core/secret.js';

export interface PlainMessage {
  /** Identity to act as; empty when it is the authenticated user. */
  readonly authzid: string;
  readonly authcid: string;
  readonly passwd: Secret;
}

/** @example encodePlainMessage({ authzid: '', authcid: 'tim', passwd: 'tanstaaf' }) → "\0tim\0tanstaaf" */
export function encodePlainMessage(message: {
  readonly authzid?: string | undefined;
  readonly authcid: string;
  readonly passwd: SecretLike;
}): Buffer {
  const authzid = message.authzid ?? '';
  const passwd = revealSecret(message.passwd);
  // NUL separates the fields, so none may contain one; authcid and passwd are 1*SAFE.
  for (const [what, value] of [
    ['authorization identity', authzid],
    ['user name', message.authcid],
    ['password', passwd],
  ] as const) {
    if (value.includes('\0'))
      throw new AuthError('EAUTH_PROTOCOL', `PLAIN cannot send a ${what} containing NUL`);
  }
  if (message.authcid === '' || passwd === '') {
    throw new AuthError('EAUTH_PROTOCOL', 'PLAIN needs a user name and password that are not empty');
  }
  return Buffer.from(`${authzid}\0${message.authcid}\0${passwd}`, 'utf8');
}

export function decodePlainMessage(message: Buffer): PlainMessage {
  if (!isUtf8(message)) throw malformed('it is not UTF-8');
  const fields = message.toString('utf8').split('\0');
  if (fields.length !== 3) throw malformed('it does not have exactly three NUL-separated fields');
  const [authzid, authcid, passwd] = fields as [string, string, string];
  if (authcid === '' || passwd === '') throw malformed('the user name or password is empty');
  return { authzid, authcid, passwd: new Secret(passwd) };
}

function malformed(why: string): AuthError {
  return new AuthError('EAUTH_PROTOCOL', `malformed PLAIN message: ${why}`);
}
