import { AuthError } from '../core/errors.js';
import { OAuthBearerServer, Xoauth2Server } from './bearer-server.js';
import { CramMd5Server } from './cram-md5-server.js';
import { LoginServer } from './login-server.js';
import { PlainServer } from './plain-server.js';
import { hasChannelBinding, ScramServer } from './scram-server.js';
import type { SaslCredentialStore, SaslServer, SaslServerContext } from './server-types.js';

/** Which store method a mechanism needs. */
type StoreMethod = keyof SaslCredentialStore;

interface ServerMechanismSpec {
  readonly name: string;
  readonly needs: StoreMethod;
  /** -PLUS: only with channel binding data, which only TLS has. */
  readonly channelBinding: boolean;
  /** The password or token crosses the wire as it is: offer it only under TLS (RFC 4616 §3, RFC 7628 §5). */
  readonly revealsSecret: boolean;
  /** Creates it; the store is known to have `needs`. */
  readonly create: (store: Required<SaslCredentialStore>, context: SaslServerContext) => SaslServer;
}

/** Every server mechanism, strongest first, in the order the client halves prefer them. */
const SERVER_MECHANISMS: readonly ServerMechanismSpec[] = [
  spec('SCRAM-SHA-256-PLUS', 'scramCredentials', (s, c) => new ScramServer('SCRAM-SHA-256', true, s, c), {
    channelBinding: true,
  }),
  spec('SCRAM-SHA-1-PLUS', 'scramCredentials', (s, c) => new ScramServer('SCRAM-SHA-1', true, s, c), {
    channelBinding: true,
  }),
  spec('SCRAM-SHA-256', 'scramCredentials', (s, c) => new ScramServer('SCRAM-SHA-256', false, s, c)),
  spec('SCRAM-SHA-1', 'scramCredentials', (s, c) => new ScramServer('SCRAM-SHA-1', false, s, c)),
  spec('CRAM-MD5', 'plaintextPassword', (s, c) => new CramMd5Server(s, c)),
  spec('PLAIN', 'verifyPassword', (s) => new PlainServer(s), { revealsSecret: true }),
  spec('LOGIN', 'verifyPassword', (s) => new LoginServer(s), { revealsSecret: true }),
  spec('OAUTHBEARER', 'verifyToken', (s) => new OAuthBearerServer(s), { revealsSecret: true }),
  spec('XOAUTH2', 'verifyToken', (s) => new Xoauth2Server(s), { revealsSecret: true }),
];

/** The names createSaslServer knows. */
export const SASL_SERVER_MECHANISMS: readonly string[] = SERVER_MECHANISMS.map((entry) => entry.name);

export interface ServerMechanismsOptions {
  /** Whether the connection is under TLS; PLAIN, LOGIN and the token mechanisms are offered only then. */
  readonly tls: boolean;
  /** Whether the context has channel binding data (it decides -PLUS; pass the same truth to both). */
  readonly channelBinding: boolean;
  /** CRAM-MD5 needs plaintext-equivalent secrets in the store, so it is off unless asked for. */
  readonly allowCramMd5?: boolean;
}

/**
 * The mechanisms to advertise in EHLO's AUTH line, strongest first, from what the store can do.
 * @example serverMechanisms(usersFile, { tls: true, channelBinding: true })
 *   → ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'LOGIN']
 */
export function serverMechanisms(store: SaslCredentialStore, options: ServerMechanismsOptions): string[] {
  return SERVER_MECHANISMS.filter(
    (entry) =>
      typeof store[entry.needs] === 'function' &&
      (!entry.channelBinding || (options.tls && options.channelBinding)) &&
      (!entry.revealsSecret || options.tls) &&
      (entry.name !== 'CRAM-MD5' || options.allowCramMd5 === true),
  ).map((entry) => entry.name);
}

/**
 * Creates the server half of `mechanism` (case-insensitive) for one AUTH command.
 * Throws AuthError 'EAUTH_UNSUPPORTED' for a mechanism that is unknown, that the store cannot serve, or a -PLUS
 * one without channel binding data (answer 504 5.5.4); InputError 'EINVALID_ARGUMENT' for SCRAM without a usable
 * secretForFakeSalts. Check the name against serverMechanisms() first: that also applies the TLS and CRAM-MD5
 * rules, which this function does not.
 * @example createSaslServer('PLAIN', store, { secretForFakeSalts }).start(initialResponse)
 */
export function createSaslServer(
  mechanism: string,
  store: SaslCredentialStore,
  context: SaslServerContext,
): SaslServer {
  const wanted = mechanism.toUpperCase();
  const entry = SERVER_MECHANISMS.find((candidate) => candidate.name === wanted);
  if (entry === undefined) {
    const shown = /^[A-Za-z0-9_-]{1,40}$/.test(mechanism) ? mechanism : 'requested';
    throw new AuthError('EAUTH_UNSUPPORTED', `the ${shown} SASL mechanism is not supported`);
  }
  if (typeof store[entry.needs] !== 'function') {
    throw new AuthError('EAUTH_UNSUPPORTED', `${entry.name} needs a credential store with ${entry.needs}()`);
  }
  if (entry.channelBinding && !hasChannelBinding(context)) {
    throw new AuthError('EAUTH_UNSUPPORTED', `${entry.name} needs TLS channel binding data`);
  }
  return entry.create(store as Required<SaslCredentialStore>, context);
}

function spec(
  name: string,
  needs: StoreMethod,
  create: ServerMechanismSpec['create'],
  flags: { channelBinding?: boolean; revealsSecret?: boolean } = {},
): ServerMechanismSpec {
  return {
    name,
    needs,
    channelBinding: flags.channelBinding ?? false,
    revealsSecret: flags.revealsSecret ?? false,
    create,
  };
}
