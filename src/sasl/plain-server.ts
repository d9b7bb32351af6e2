import { decodePlainMessage } from './plain-message.js';
import {
  askStore,
  challenge,
  failure,
  preparePassword,
  prepareUsername,
  SaslServerBase,
  success,
} from './server-base.js';
import type { SaslCredentialStore, SaslServerStep } from './server-types.js';

/** The one store method PLAIN and LOGIN need. */
export type PasswordVerifier = Required<Pick<SaslCredentialStore, 'verifyPassword'>>;

/**
 * PLAIN (RFC 4616): one message, authzid NUL authcid NUL passwd. Without an initial response the server sends
 * an empty challenge and the message follows.
 */
export class PlainServer extends SaslServerBase {
  readonly mechanism = 'PLAIN';
  readonly #store: PasswordVerifier;

  constructor(store: PasswordVerifier) {
    super();
    this.#store = store;
  }

  protected async begin(initialResponse: Buffer | undefined): Promise<SaslServerStep> {
    return initialResponse === undefined ? challenge(Buffer.alloc(0)) : this.continue(initialResponse);
  }

  protected async continue(response: Buffer): Promise<SaslServerStep> {
    const { authzid, authcid, passwd } = decodePlainMessage(response);
    return checkPassword(this.#store, authcid, passwd.reveal(), authzid);
  }
}

/**
 * Prepares the user name and password (RFC 4616 §2 recommends SASLprep on both sides) and asks the store.
 * A name or password that cannot be prepared matches no stored user, so it fails like a wrong password.
 */
export async function checkPassword(
  store: PasswordVerifier,
  user: string,
  password: string,
  authzid?: string,
): Promise<SaslServerStep> {
  const preparedUser = prepareUsername(user);
  const preparedPassword = preparePassword(password);
  if (preparedUser === undefined || preparedPassword === undefined) return failure('credentials');
  const ok = await askStore(() => store.verifyPassword(preparedUser, preparedPassword));
  return ok === true ? success(preparedUser, authzid) : failure('credentials');
}
