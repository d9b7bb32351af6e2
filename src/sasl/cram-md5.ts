import { createHmac } from 'node:crypto';
import { AuthError } from '../core/errors.js';
import { revealSecret, Secret, type SecretLike } from '../core/secret.js';
import { SaslClientBase } from './client-base.js';
import { requireUser } from './credentials.js';
import type { PasswordCredentials } from './types.js';

/**
 * The CRAM-MD5 digest (RFC 2195 §2): lower-case hex of HMAC-MD5 keyed with the password over the challenge.
 * A server half computes the same value to compare.
 * @example cramMd5Digest('tanstaaftanstaaf', '<1896.697170952@postoffice.reston.mci.net>') === 'b913a602c7eda7a495b4e6e7334d3890'
 */
export function cramMd5Digest(password: SecretLike, challenge: Buffer | string): string {
  return createHmac('md5', Buffer.from(revealSecret(password), 'utf8'))
    .update(challenge)
    .digest('hex');
}

/**
 * CRAM-MD5 (RFC 2195): proves the password over a server challenge without sending it. Weaker than SCRAM
 * (MD5, no server proof, the server keeps a password equivalent), but better than PLAIN without TLS.
 */
export class CramMd5Client extends SaslClientBase {
  readonly mechanism = 'CRAM-MD5';
  readonly #user: string;
  readonly #password: Secret;
  #answered = false;

  constructor(credentials: PasswordCredentials) {
    super();
    this.#user = requireUser(credentials.user, this.mechanism);
    this.#password = Secret.from(credentials.pass);
  }

  /** The server speaks first with its challenge. */
  async initialResponse(): Promise<undefined> {
    return undefined;
  }

  /** @example respond(Buffer.from('<1896.697170952@postoffice.reston.mci.net>')) → "tim b913a602c7eda7a495b4e6e7334d3890" */
  async respond(challenge: Buffer): Promise<Buffer> {
    if (this.#answered) throw this.unexpectedChallenge();
    if (challenge.length === 0) throw new AuthError('EAUTH_PROTOCOL', 'the CRAM-MD5 challenge is empty');
    this.#answered = true;
    return Buffer.from(`${this.#user} ${cramMd5Digest(this.#password, challenge)}`, 'utf8');
  }
}
