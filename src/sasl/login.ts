import { Secret } from '../core/secret.js';
import { SaslClientBase } from './client-base.js';
import { requireUser } from './credentials.js';
import type { PasswordCredentials } from './types.js';

/**
 * LOGIN (draft-murchison-sasl-login): the user name, then the password, each in answer to a challenge.
 * Servers word the prompts differently ("Username:", "VXNlcm5hbWU6" decoded, localised text, nothing at all),
 * so the answers go by order, not by prompt text.
 */
export class LoginClient extends SaslClientBase {
  readonly mechanism = 'LOGIN';
  readonly #user: string;
  readonly #password: Secret;
  #answered = 0;

  constructor(credentials: PasswordCredentials) {
    super();
    this.#user = requireUser(credentials.user, this.mechanism);
    this.#password = Secret.from(credentials.pass);
  }

  /** LOGIN has no initial response: the server prompts first. */
  async initialResponse(): Promise<undefined> {
    return undefined;
  }

  async respond(_challenge: Buffer): Promise<Buffer> {
    this.#answered += 1;
    if (this.#answered === 1) return Buffer.from(this.#user, 'utf8');
    if (this.#answered === 2) return Buffer.from(this.#password.reveal(), 'utf8');
    throw this.unexpectedChallenge();
  }
}
