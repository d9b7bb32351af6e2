import type { Secret } from '../core/secret.js';
import { BearerClientBase } from './bearer-client.js';
import { encodeOAuthBearer } from './bearer-messages.js';
import type { OAuthCredentials, SaslClientContext } from './types.js';

/**
 * OAUTHBEARER (RFC 7628): the standard bearer-token mechanism, with the server's host and port inside the
 * message so a token captured by one server is harder to replay at another. An error challenge is answered
 * with a single ^A (§3.2.3).
 */
export class OAuthBearerClient extends BearerClientBase {
  readonly mechanism = 'OAUTHBEARER';
  readonly #user: string;
  readonly #host: string | undefined;
  readonly #port: number | undefined;

  constructor(credentials: OAuthCredentials, context: SaslClientContext) {
    super(credentials, context);
    // The authzid is optional in RFC 7628; an empty user sends "n,,".
    this.#user = credentials.user ?? '';
    this.#host = context.host;
    this.#port = context.port;
  }

  protected encode(token: Secret): Buffer {
    return encodeOAuthBearer({ authzid: this.#user, host: this.#host, port: this.#port, token });
  }

  protected errorResponse(): Buffer {
    return Buffer.from([0x01]);
  }
}
