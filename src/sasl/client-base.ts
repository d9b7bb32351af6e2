import { inspect } from 'node:util';
import { AuthError } from '../core/errors.js';
import type { SaslClient } from './types.js';

/**
 * What every client mechanism shares: it shows only its name to `util.inspect` and `JSON.stringify`, so a
 * debug print of a session can never reveal the password or token a mechanism holds in its #private fields.
 */
export abstract class SaslClientBase implements SaslClient {
  abstract readonly mechanism: string;

  abstract initialResponse(): Promise<Buffer | undefined>;

  abstract respond(challenge: Buffer): Promise<Buffer>;

  /** Only SCRAM has something to check on success; the other mechanisms have no server proof. */
  finish(): void {}

  toJSON(): { mechanism: string } {
    return { mechanism: this.mechanism };
  }

  [inspect.custom](): string {
    return `SaslClient(${this.mechanism})`;
  }

  /** initialResponse() was called twice or after respond() began the exchange: a bug in the caller. */
  protected alreadyStarted(): AuthError {
    return new AuthError('EAUTH_PROTOCOL', `the ${this.mechanism} exchange has already started`, {
      hint: 'create a new SASL client for every AUTH attempt',
    });
  }

  /** The server sent a challenge the mechanism has no answer for; the caller should cancel with "*". */
  protected unexpectedChallenge(): AuthError {
    return new AuthError('EAUTH_PROTOCOL', `the server sent an unexpected ${this.mechanism} challenge`, {
      hint: 'cancel the exchange with "*"; the server does not follow the mechanism',
    });
  }
}
