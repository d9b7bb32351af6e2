import type { Secret } from '../core/secret.js';
import { decodeOAuthBearer, decodeXoauth2 } from './bearer-messages.js';
import {
  askStore,
  challenge,
  failure,
  malformed,
  prepareUsername,
  SaslServerBase,
  success,
} from './server-base.js';
import type { OAuthTokenRejection, SaslCredentialStore, SaslServerStep } from './server-types.js';

/** The one store method the bearer-token mechanisms need. */
export type TokenVerifier = Required<Pick<SaslCredentialStore, 'verifyToken'>>;

type BearerMechanism = 'XOAUTH2' | 'OAUTHBEARER';

/**
 * What XOAUTH2 and OAUTHBEARER share: one message with the user and the token, checked by the store. A refused
 * token ends in a failure whose error challenge is the JSON the client expects (RFC 7628 §3.2.2; Google's
 * XOAUTH2 documentation), so it can tell an expired token from a wrong one and refresh.
 */
abstract class BearerServerBase extends SaslServerBase {
  abstract override readonly mechanism: BearerMechanism;
  readonly #store: TokenVerifier;

  constructor(store: TokenVerifier) {
    super();
    this.#store = store;
  }

  /** The user the token must belong to, and the token. */
  protected abstract decode(message: Buffer): { readonly user: string; readonly token: Secret };

  /** The error challenge when the store gives no details. */
  protected abstract readonly defaultRejection: OAuthTokenRejection;

  /** Without an initial response the server sends an empty challenge and the message follows. */
  protected async begin(initialResponse: Buffer | undefined): Promise<SaslServerStep> {
    return initialResponse === undefined ? challenge(Buffer.alloc(0)) : this.continue(initialResponse);
  }

  protected async continue(response: Buffer): Promise<SaslServerStep> {
    const { user, token } = this.decode(response);
    const prepared = prepareUsername(user);
    // No stored user has a name SASLprep refuses: refuse it as the store would refuse an unknown user.
    if (prepared === undefined) return failure('credentials', this.#errorChallenge(this.defaultRejection));
    const verdict = await askStore(() => this.#store.verifyToken(prepared, token, this.mechanism));
    return verdict === true ? success(prepared) : failure('credentials', this.#errorChallenge(verdict));
  }

  /** {"status":…,"schemes":…,"scope":…}, with only the fields the rejection has, all strings. */
  #errorChallenge(rejection: OAuthTokenRejection): Buffer {
    const given = typeof rejection === 'object' && rejection !== null ? rejection : this.defaultRejection;
    const status = typeof given.status === 'string' ? given.status : this.defaultRejection.status;
    const json: Record<string, string> = { status };
    if (typeof given.schemes === 'string') json['schemes'] = given.schemes;
    if (typeof given.scope === 'string') json['scope'] = given.scope;
    return Buffer.from(JSON.stringify(json), 'utf8');
  }
}

/** XOAUTH2 (Google's and Microsoft's documentation): "user=" user ^A "auth=Bearer " token ^A ^A. */
export class Xoauth2Server extends BearerServerBase {
  readonly mechanism = 'XOAUTH2';
  protected readonly defaultRejection = { status: '401', schemes: 'bearer' };

  protected decode(message: Buffer): { user: string; token: Secret } {
    return decodeXoauth2(message);
  }
}

/**
 * OAUTHBEARER (RFC 7628): a GS2 header whose authzid names the user, then host, port and token. The authzid is
 * optional in the RFC, but a SaslCredentialStore verifies a token for a named user, so here it is required.
 */
export class OAuthBearerServer extends BearerServerBase {
  readonly mechanism = 'OAUTHBEARER';
  protected readonly defaultRejection = { status: 'invalid_token' };

  protected decode(message: Buffer): { user: string; token: Secret } {
    const { authzid, token } = decodeOAuthBearer(message);
    if (authzid === undefined)
      throw malformed(this.mechanism, 'the user ("a=" in the GS2 header) is missing');
    return { user: authzid, token };
  }
}
