import { AuthError, InputError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { Credentials, OAuthCredentials, PasswordCredentials, TokenProvider } from './types.js';

/** Which kind of secret a mechanism needs; chooseMechanism and createSaslClient match it to the credentials. */
export type CredentialKind = 'password' | 'oauth';

export function isPasswordCredentials(credentials: Credentials): credentials is PasswordCredentials {
  return 'pass' in credentials && credentials.pass !== undefined;
}

export function isOAuthCredentials(credentials: Credentials): credentials is OAuthCredentials {
  return 'accessToken' in credentials && credentials.accessToken !== undefined;
}

export function hasCredentialKind(credentials: Credentials, kind: CredentialKind): boolean {
  return kind === 'password' ? isPasswordCredentials(credentials) : isOAuthCredentials(credentials);
}

/** Rejects an empty user early: every mechanism needs one, and the server's answer would be less clear. */
export function requireUser(user: unknown, mechanism: string): string {
  if (typeof user !== 'string' || user === '') {
    throw new AuthError('EAUTH_PROTOCOL', `${mechanism} needs a non-empty user name`);
  }
  return user;
}

/**
 * Resolves an access token, calling a provider with `{ refresh }`. A provider's failure becomes an AuthError
 * (its own error kept as `cause`), so callers switch on one family of errors for the whole AUTH step.
 */
export async function resolveAccessToken(
  accessToken: TokenProvider | Secret | string,
  refresh: boolean,
): Promise<Secret> {
  if (typeof accessToken !== 'function') return Secret.from(accessToken);
  let token: unknown;
  try {
    token = await accessToken({ refresh });
  } catch (cause) {
    throw new AuthError('EAUTH_FAILED', 'the access-token provider failed', { cause });
  }
  if (token instanceof Secret) return token;
  if (typeof token !== 'string') {
    throw new InputError('EINVALID_ARGUMENT', 'the access-token provider must return a string');
  }
  return new Secret(token);
}
