import { createHmac } from 'node:crypto';
import { InputError } from '../core/errors.js';
import type { Gs2ChannelBindingFlag } from './gs2.js';
import {
  authMessage,
  computeServerSignature,
  constantTimeEqual,
  createNonce,
  MAX_ITERATIONS,
  MIN_ITERATIONS,
  SCRAM_HASHES,
  type ScramFamily,
  type ScramHash,
  verifyClientProof,
} from './scram-core.js';
import {
  encodeServerFinal,
  encodeServerFirst,
  isValidNonce,
  parseClientFinal,
  parseClientFirst,
} from './scram-messages.js';
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
import type {
  SaslCredentialStore,
  SaslServerContext,
  SaslServerStep,
  ScramHashName,
  ScramStoredCredentials,
} from './server-types.js';

/**
 * Iterations for new SCRAM credentials, and the count shown to unknown users, so the two look alike.
 * SHA-1 stays at RFC 5802's minimum for the legacy clients that need it; SHA-256 takes 10,000 (RFC 7677 asks
 * for at least 4096). Every login makes the client pay this in PBKDF2, and a stolen users file is only as hard
 * to crack as its cheapest verifier (SCRAM-SHA-1 at 4096), so more SHA-256 rounds would buy little.
 */
export const DEFAULT_SCRAM_ITERATIONS: Readonly<Record<ScramHashName, number>> = {
  'SHA-1': 4096,
  'SHA-256': 10_000,
};

/** Salt length of new SCRAM credentials and of the fake salts of unknown users (RFC 7677's example uses 16). */
export const SCRAM_SALT_BYTES = 16;

/** Shortest secretForFakeSalts accepted: a guessable one would let anyone tell fake salts from real ones. */
const MIN_FAKE_SALT_SECRET_BYTES = 16;

/** The one store method SCRAM needs. */
export type ScramCredentialSource = Required<Pick<SaslCredentialStore, 'scramCredentials'>>;

type ChannelBindingName = keyof NonNullable<SaslServerContext['channelBinding']>;

/** What the server remembers between server-first and client-final. */
interface PendingExchange {
  readonly user: string;
  readonly authzid: string | undefined;
  /** The c= value the client must send: its GS2 header, then the binding data if it bound. */
  readonly expectedBinding: Buffer;
  readonly clientFirstBare: string;
  readonly serverFirst: string;
  readonly nonce: string;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  /** False for an unknown user or unusable credentials: the exchange runs on, then fails at the proof. */
  readonly known: boolean;
}

/** Whether the context has channel binding data, i.e. whether -PLUS is advertised. */
export function hasChannelBinding(context: SaslServerContext): boolean {
  const bindings = context.channelBinding ?? {};
  return Object.values(bindings).some((data) => Buffer.isBuffer(data) && data.length > 0);
}

/**
 * The server half of SCRAM-SHA-1/-256 and -PLUS (RFC 5802, RFC 7677). It keeps only StoredKey and ServerKey
 * (RFC 5803), checks the client proof in constant time, proves itself with the server signature, and checks
 * channel binding: -PLUS must bind to this connection, and a client that says "y" while -PLUS is offered is
 * refused (RFC 5802 §6: someone removed -PLUS from the offer).
 *
 * An unknown user gets a salt derived from the server secret and the name, and the default iteration count, and
 * fails at the proof exactly as a wrong password does, so the exchange never reveals who exists.
 */
export class ScramServer extends SaslServerBase {
  readonly mechanism: string;
  readonly #hash: ScramHash;
  readonly #hashName: ScramHashName;
  readonly #plus: boolean;
  readonly #store: ScramCredentialSource;
  readonly #context: SaslServerContext;
  #pending: PendingExchange | undefined;

  constructor(family: ScramFamily, plus: boolean, store: ScramCredentialSource, context: SaslServerContext) {
    super();
    this.mechanism = plus ? `${family}-PLUS` : family;
    this.#hash = SCRAM_HASHES[family];
    this.#hashName = family === 'SCRAM-SHA-1' ? 'SHA-1' : 'SHA-256';
    this.#plus = plus;
    this.#store = store;
    this.#context = context;
    const secret = context.secretForFakeSalts;
    if (!Buffer.isBuffer(secret) || secret.length < MIN_FAKE_SALT_SECRET_BYTES) {
      throw new InputError(
        'EINVALID_ARGUMENT',
        `SCRAM needs secretForFakeSalts: at least ${MIN_FAKE_SALT_SECRET_BYTES} random bytes, kept across restarts`,
      );
    }
  }

  /** SCRAM is client-first: without an initial response, an empty challenge asks for client-first. */
  protected async begin(initialResponse: Buffer | undefined): Promise<SaslServerStep> {
    return initialResponse === undefined ? challenge(Buffer.alloc(0)) : this.continue(initialResponse);
  }

  protected async continue(response: Buffer): Promise<SaslServerStep> {
    const pending = this.#pending;
    if (pending === undefined) return this.#serverFirst(decodeUtf8(response, this.mechanism));
    this.#pending = undefined;
    return this.#serverFinal(pending, decodeUtf8(response, this.mechanism));
  }

  async #serverFirst(clientFirst: string): Promise<SaslServerStep> {
    const message = parseClientFirst(clientFirst);
    const bindingData = this.#bindingData(message.gs2Header.channelBinding);
    if (bindingData === undefined) return failure('mechanism-too-weak');
    const user = prepareUsername(message.username);
    const stored =
      user === undefined
        ? undefined
        : await askStore(() => this.#store.scramCredentials(user, this.#hashName));
    const known = user !== undefined && usable(this.#hash, stored);
    // Keyed by the prepared name, so two spellings of one name get one salt, as a real user's would.
    const credentials = known ? stored! : this.#fakeCredentials(user ?? message.username);
    const serverNonce = (this.#context.nonce ?? createNonce)();
    if (!isValidNonce(serverNonce)) throw new TypeError('a SCRAM nonce must be printable ASCII without ","');
    const nonce = message.nonce + serverNonce;
    const serverFirst = encodeServerFirst({
      nonce,
      salt: credentials.salt,
      iterations: credentials.iterations,
    });
    this.#pending = {
      user: user ?? message.username,
      authzid: message.gs2Header.authzid,
      expectedBinding: Buffer.concat([Buffer.from(message.gs2HeaderRaw, 'utf8'), bindingData]),
      clientFirstBare: message.bare,
      serverFirst,
      nonce,
      storedKey: credentials.storedKey,
      serverKey: credentials.serverKey,
      known,
    };
    return challenge(serverFirst);
  }

  #serverFinal(pending: PendingExchange, clientFinal: string): SaslServerStep {
    const message = parseClientFinal(clientFinal);
    if (message.nonce !== pending.nonce) throw malformed(this.mechanism, 'the nonce is not this exchange’s');
    const signed = authMessage(pending.clientFirstBare, pending.serverFirst, message.withoutProof);
    // Both checks always run, so how long this takes does not say which one failed.
    const bindingMatches = constantTimeEqual(message.channelBinding, pending.expectedBinding);
    const proofMatches = verifyClientProof(this.#hash, pending.storedKey, signed, message.proof);
    if (!(bindingMatches && proofMatches && pending.known)) return failure('credentials');
    const signature = computeServerSignature(this.#hash, pending.serverKey, signed);
    const serverFinal = encodeServerFinal({ kind: 'verifier', signature });
    return success(pending.user, pending.authzid, Buffer.from(serverFinal, 'utf8'));
  }

  /**
   * RFC 5802 §6: -PLUS needs "p=" with a binding type this connection has; without -PLUS, "p" is wrong and "y"
   * (the client could bind but saw no -PLUS) means the offer was tampered with when -PLUS was offered.
   * Returns the binding data the client must have used (empty without "p"), undefined for that downgrade.
   */
  #bindingData(flag: Gs2ChannelBindingFlag): Buffer | undefined {
    if (this.#plus) {
      if (flag.flag !== 'p') throw malformed(this.mechanism, '-PLUS needs the "p=" channel-binding flag');
      const data = isBindingName(flag.name) ? this.#context.channelBinding?.[flag.name] : undefined;
      if (!Buffer.isBuffer(data) || data.length === 0) {
        throw malformed(this.mechanism, 'the channel-binding type is not available on this connection');
      }
      return data;
    }
    if (flag.flag === 'p') throw malformed(this.mechanism, 'channel binding needs the -PLUS mechanism');
    if (flag.flag === 'y' && hasChannelBinding(this.#context)) return undefined;
    return Buffer.alloc(0);
  }

  /** Deterministic per user and hash, unguessable without the server secret, and shaped like real ones. */
  #fakeCredentials(username: string): ScramStoredCredentials {
    const seed = createHmac('sha256', this.#context.secretForFakeSalts)
      .update(`${this.#hash.family}\0${username}`)
      .digest();
    const derive = (label: string) => createHmac(this.#hash.algorithm, seed).update(label).digest();
    return {
      iterations: DEFAULT_SCRAM_ITERATIONS[this.#hashName],
      salt: seed.subarray(0, SCRAM_SALT_BYTES),
      storedKey: derive('StoredKey'),
      serverKey: derive('ServerKey'),
    };
  }
}

function isBindingName(name: string): name is ChannelBindingName {
  return name === 'tls-exporter' || name === 'tls-server-end-point';
}

/** Credentials a client would accept (RFC 7677 §4: at least 4096 iterations) with keys of the right size. */
function usable(
  hash: ScramHash,
  stored: ScramStoredCredentials | undefined,
): stored is ScramStoredCredentials {
  return (
    stored !== undefined &&
    Number.isInteger(stored.iterations) &&
    stored.iterations >= MIN_ITERATIONS &&
    stored.iterations <= MAX_ITERATIONS &&
    Buffer.isBuffer(stored.salt) &&
    stored.salt.length > 0 &&
    Buffer.isBuffer(stored.storedKey) &&
    stored.storedKey.length === hash.length &&
    Buffer.isBuffer(stored.serverKey) &&
    stored.serverKey.length === hash.length
  );
}
