import { AuthError } from '../core/errors.js';
import { CramMd5Client } from './cram-md5.js';
import { type CredentialKind, isOAuthCredentials, isPasswordCredentials } from './credentials.js';
import { LoginClient } from './login.js';
import { OAuthBearerClient } from './oauthbearer.js';
import { PlainClient } from './plain.js';
import { ScramClient } from './scram.js';
import type {
  Credentials,
  OAuthCredentials,
  PasswordCredentials,
  SaslClient,
  SaslClientContext,
} from './types.js';
import { Xoauth2Client } from './xoauth2.js';

/** A mechanism this package implements, with the kind of credentials it needs. */
export type MechanismSpec = {
  readonly name: string;
  /** -PLUS mechanisms need TLS channel-binding data. */
  readonly channelBinding: boolean;
} & (
  | {
      readonly credentials: 'password';
      readonly create: (credentials: PasswordCredentials, context: SaslClientContext) => SaslClient;
    }
  | {
      readonly credentials: 'oauth';
      readonly create: (credentials: OAuthCredentials, context: SaslClientContext) => SaslClient;
    }
);

/** Every mechanism, strongest first within each kind of credentials; chooseMechanism follows this order. */
export const MECHANISMS: readonly MechanismSpec[] = [
  password('SCRAM-SHA-256-PLUS', true, (c, x) => new ScramClient('SCRAM-SHA-256', true, c, x)),
  password('SCRAM-SHA-1-PLUS', true, (c, x) => new ScramClient('SCRAM-SHA-1', true, c, x)),
  password('SCRAM-SHA-256', false, (c, x) => new ScramClient('SCRAM-SHA-256', false, c, x)),
  password('SCRAM-SHA-1', false, (c, x) => new ScramClient('SCRAM-SHA-1', false, c, x)),
  password('CRAM-MD5', false, (c) => new CramMd5Client(c)),
  password('PLAIN', false, (c) => new PlainClient(c)),
  password('LOGIN', false, (c) => new LoginClient(c)),
  oauth('OAUTHBEARER', (c, x) => new OAuthBearerClient(c, x)),
  oauth('XOAUTH2', (c, x) => new Xoauth2Client(c, x)),
];

/** The names createSaslClient accepts, e.g. for a CLI's help text. */
export const SASL_MECHANISMS: readonly string[] = MECHANISMS.map((spec) => spec.name);

/** Looks a mechanism up by name, case-insensitively (RFC 4422 names are upper case; servers are not always). */
export function findMechanism(name: string): MechanismSpec | undefined {
  const wanted = name.toUpperCase();
  return MECHANISMS.find((spec) => spec.name === wanted);
}

/**
 * Creates the client half of `mechanism` for one AUTH attempt.
 * Throws AuthError 'EAUTH_UNSUPPORTED' for an unknown mechanism, the wrong kind of credentials, or a -PLUS
 * mechanism without channel binding; 'EAUTH_PROTOCOL' when the credentials cannot be encoded (e.g. SASLprep).
 * @example createSaslClient('SCRAM-SHA-256', { user: 'user', pass: new Secret('pencil') })
 */
export function createSaslClient(
  mechanism: string,
  credentials: Credentials,
  context: SaslClientContext = {},
): SaslClient {
  const spec = findMechanism(mechanism);
  if (!spec) {
    const shown = /^[A-Za-z0-9_-]{1,40}$/.test(mechanism) ? mechanism : 'requested';
    throw new AuthError('EAUTH_UNSUPPORTED', `the ${shown} SASL mechanism is not supported`, {
      hint: `supported mechanisms: ${SASL_MECHANISMS.join(', ')}`,
    });
  }
  if (spec.credentials === 'password') {
    if (!isPasswordCredentials(credentials)) throw wrongCredentials(spec.name, spec.credentials);
    return spec.create(credentials, context);
  }
  if (!isOAuthCredentials(credentials)) throw wrongCredentials(spec.name, spec.credentials);
  return spec.create(credentials, context);
}

function password(
  name: string,
  channelBinding: boolean,
  create: (credentials: PasswordCredentials, context: SaslClientContext) => SaslClient,
): MechanismSpec {
  return { name, channelBinding, credentials: 'password', create };
}

function oauth(
  name: string,
  create: (credentials: OAuthCredentials, context: SaslClientContext) => SaslClient,
): MechanismSpec {
  return { name, channelBinding: false, credentials: 'oauth', create };
}

function wrongCredentials(mechanism: string, needs: CredentialKind): AuthError {
  return new AuthError(
    'EAUTH_UNSUPPORTED',
    needs === 'password'
      ? `${mechanism} needs a user and password (\`pass\`), not an OAuth access token`
      : `${mechanism} needs an OAuth access token (\`accessToken\`), not a password`,
  );
}
