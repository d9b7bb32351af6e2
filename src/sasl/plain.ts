import { Secret } from '../core/secret.js';
import { SaslClientBase } from './client-base.js';
import { requireUser } from './credentials.js';
import { encodePlainMessage } from './plain-message.js';
import type { PasswordCredentials } from './types.js';

/** PLAIN (RFC 4616): the password itself, in one message; safe only inside TLS, which the client enforces. */
export class PlainClient extends SaslClientBase {
  readonly mechanism = 'PLAIN';
  readonly #authzid: string | undefined;
  readonly #user: string;
  readonly #password: Secret;
  #sent = false;

  constructor(credentials: PasswordCredentials) {
    super();
    this.#user = requireUser(credentials.user, this.mechanism);
    this.#password = Secret.from(credentials.pass);
    this.#authzid = credentials.authzid;
    // Fail at creation, before AUTH is sent, when the fields cannot be encoded.
    this.#message().fill(0);
  }

  async initialResponse(): Promise<Buffer> {
    if (this.#sent) throw this.alreadyStarted();
    this.#sent = true;
    return this.#message();
  }

  /** Without SASL-IR the server's first, empty challenge asks for the message; nothing else may follow. */
  async respond(_challenge: Buffer): Promise<Buffer> {
    if (this.#sent) throw this.unexpectedChallenge();
    return this.initialResponse();
  }

  #message(): Buffer {
    return encodePlainMessage({ authzid: this.#authzid, authcid: this.#user, passwd: this.#password });
  }
}
