import { checkPassword, type PasswordVerifier } from './plain-server.js';
import { challenge, decodeUtf8, malformed, SaslServerBase } from './server-base.js';
import type { SaslServerStep } from './server-types.js';

/** The prompts every LOGIN client knows; they are base64 "VXNlcm5hbWU6" and "UGFzc3dvcmQ6" on the wire. */
const USERNAME_PROMPT = 'Username:';
const PASSWORD_PROMPT = 'Password:';

/**
 * LOGIN (draft-murchison-sasl-login): the user name, then the password, each in answer to a prompt. A client
 * may send the user name as the initial response ("AUTH LOGIN dXNlcg=="), skipping the first prompt.
 */
export class LoginServer extends SaslServerBase {
  readonly mechanism = 'LOGIN';
  readonly #store: PasswordVerifier;
  #user: string | undefined;

  constructor(store: PasswordVerifier) {
    super();
    this.#store = store;
  }

  protected async begin(initialResponse: Buffer | undefined): Promise<SaslServerStep> {
    return initialResponse === undefined ? challenge(USERNAME_PROMPT) : this.continue(initialResponse);
  }

  protected async continue(response: Buffer): Promise<SaslServerStep> {
    const text = this.#field(response, this.#user === undefined ? 'user name' : 'password');
    if (this.#user === undefined) {
      this.#user = text;
      return challenge(PASSWORD_PROMPT);
    }
    return checkPassword(this.#store, this.#user, text);
  }

  #field(response: Buffer, what: string): string {
    const text = decodeUtf8(response, this.mechanism);
    if (text === '' || text.includes('\0'))
      throw malformed(this.mechanism, `the ${what} is empty or has NUL`);
    return text;
  }
}
