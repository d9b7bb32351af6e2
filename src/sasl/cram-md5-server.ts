import { randomBytes } from 'node:crypto';
import { Secret } from '../core/secret.js';
import { cramMd5Digest } from './cram-md5.js';
import { constantTimeEqual } from './scram-core.js';
import {
  askStore,
  challenge,
  decodeUtf8,
  failure,
  malformed,
  prepareUsername,
  SaslServerBase,
  success,
} from './server-base.js';
import type { SaslCredentialStore, SaslServerContext, SaslServerStep } from './server-types.js';

/** The one store method CRAM-MD5 needs. */
export type PlaintextSource = Required<Pick<SaslCredentialStore, 'plaintextPassword'>>;

/** RFC 2195 §2: the response is the user name, a space, and 16 bytes of HMAC-MD5 in lower-case hex. */
const RESPONSE = /^(.+) ([0-9a-fA-F]{32})$/s;
/** Only what may sit in a msg-id between "@" and ">". */
const HOSTNAME = /^[A-Za-z0-9.-]{1,253}$/;

/**
 * CRAM-MD5 (RFC 2195): the server sends a unique challenge "<random.time@host>", the client answers with
 * HMAC-MD5 keyed by the password. The server needs the password itself (or an equivalent), so this works only
 * with a store that keeps one; an unknown user gets the same computation against a throwaway key.
 */
export class CramMd5Server extends SaslServerBase {
  readonly mechanism = 'CRAM-MD5';
  readonly #store: PlaintextSource;
  readonly #challenge: string;

  constructor(store: PlaintextSource, context: SaslServerContext) {
    super();
    this.#store = store;
    const unique = context.nonce?.() ?? `${randomBytes(8).readBigUInt64BE()}.${Date.now()}`;
    const host =
      context.hostname !== undefined && HOSTNAME.test(context.hostname) ? context.hostname : 'localhost';
    this.#challenge = `<${unique.replace(/[^\x21-\x7e]|[<>@]/g, '')}@${host}>`;
  }

  /** The server speaks first; an initial response has nothing to answer (RFC 4422 §5). */
  protected async begin(initialResponse: Buffer | undefined): Promise<SaslServerStep> {
    if (initialResponse !== undefined) throw malformed(this.mechanism, 'CRAM-MD5 takes no initial response');
    return challenge(this.#challenge);
  }

  protected async continue(response: Buffer): Promise<SaslServerStep> {
    const match = RESPONSE.exec(decodeUtf8(response, this.mechanism));
    if (!match) throw malformed(this.mechanism, 'it is not "user SP 32-hex-digits"');
    const user = prepareUsername(match[1]!);
    if (user === undefined) return failure('credentials');
    const password = await askStore(() => this.#store.plaintextPassword(user));
    const key = password ?? new Secret(randomBytes(16).toString('hex'));
    const expected = Buffer.from(cramMd5Digest(key, this.#challenge), 'latin1');
    const matches = constantTimeEqual(expected, Buffer.from(match[2]!.toLowerCase(), 'latin1'));
    return matches && password !== undefined ? success(user) : failure('credentials');
  }
}
