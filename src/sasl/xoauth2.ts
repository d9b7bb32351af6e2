import type { Secret } from '../core/secret.js';
import { BearerClientBase } from './bearer-client.js';
import { encodeXoauth2 } from './bearer-messages.js';
import { requireUser } from './credentials.js';
import type { OAuthCredentials, SaslClientContext } from './types.js';

/**
 * XOAUTH2, the pre-standard bearer-token mechanism Gmail and Outlook still offer:
 * "user=" user ^A "auth=Bearer " token ^A ^A. An error challenge is answered with an empty response.
 */
export class Xoauth2Client extends BearerClientBase {
  readonly mechanism = 'XOAUTH2';
  readonly #user: string;

  constructor(credentials: OAuthCredentials, context: SaslClientContext) {
    super(credentials, context);
    this.#user = requireUser(credentials.user, this.mechanism);
  }

  protected encode(token: Secret): Buffer {
    return encodeXoauth2(this.#user, token);
  }

  protected errorResponse(): Buffer {
    return Buffer.alloc(0);
  }
}
