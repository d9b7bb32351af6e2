import type { Secret } from '../core/secret.js';
import { parseErrorChallenge } from './bearer-messages.js';
import { SaslClientBase } from './client-base.js';
import { resolveAccessToken } from './credentials.js';
import type { OAuthCredentials, SaslClientContext } from './types.js';

type BearerStep = 'start' | 'token-sent' | 'error-answered';

/**
 * What XOAUTH2 and OAUTHBEARER share: send the token first; a 334 after it is the server's JSON reason for
 * refusing the token, which is recorded in `errorChallenge` and answered with the mechanism's dummy response so
 * the server ends with 535. The caller may then retry once with `refreshToken: true`.
 */
export abstract class BearerClientBase extends SaslClientBase {
  readonly #accessToken: OAuthCredentials['accessToken'];
  readonly #refresh: boolean;
  #step: BearerStep = 'start';
  #errorChallenge: Record<string, unknown> | undefined;

  constructor(credentials: OAuthCredentials, context: SaslClientContext) {
    super();
    this.#accessToken = credentials.accessToken;
    this.#refresh = context.refreshToken ?? false;
  }

  get errorChallenge(): Record<string, unknown> | undefined {
    return this.#errorChallenge;
  }

  /** The mechanism's initial response around a resolved token. */
  protected abstract encode(token: Secret): Buffer;

  /** What the mechanism answers to an error challenge. */
  protected abstract errorResponse(): Buffer;

  async initialResponse(): Promise<Buffer> {
    if (this.#step !== 'start') throw this.alreadyStarted();
    this.#step = 'token-sent';
    return this.encode(await resolveAccessToken(this.#accessToken, this.#refresh));
  }

  async respond(challenge: Buffer): Promise<Buffer> {
    switch (this.#step) {
      case 'start':
        return this.initialResponse();
      case 'token-sent':
        this.#step = 'error-answered';
        this.#errorChallenge = parseErrorChallenge(challenge);
        return this.errorResponse();
      default:
        throw this.unexpectedChallenge();
    }
  }
}
