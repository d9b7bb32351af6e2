import { isUtf8 } from 'node:buffer';
import { AuthError } from '../core/errors.js';
import { revealSecret, Secret } from '../core/secret.js';
import { SaslClientBase } from './client-base.js';
import { requireUser } from './credentials.js';
import { encodeGs2Header, type Gs2ChannelBindingFlag } from './gs2.js';
import { saslprep } from './saslprep.js';
import {
  authMessage,
  computeClientProof,
  computeServerSignature,
  constantTimeEqual,
  createNonce,
  deriveScramKeys,
  MAX_ITERATIONS,
  MIN_ITERATIONS,
  SCRAM_HASHES,
  type ScramFamily,
  type ScramHash,
} from './scram-core.js';
import {
  encodeClientFinal,
  encodeClientFinalWithoutProof,
  encodeClientFirstBare,
  isValidNonce,
  parseServerFinal,
  parseServerFirst,
} from './scram-messages.js';
import type { ChannelBinding, PasswordCredentials, SaslClientContext } from './types.js';

type ScramClientState =
  | { readonly step: 'start' }
  | { readonly step: 'awaiting-server-first'; readonly clientFirstBare: string; readonly nonce: string }
  | { readonly step: 'awaiting-server-final'; readonly expectedSignature: Buffer }
  | { readonly step: 'verified' }
  | { readonly step: 'failed' };

const CHANNEL_BINDING_TYPES: ReadonlySet<string> = new Set(['tls-exporter', 'tls-server-end-point']);

/**
 * SCRAM-SHA-1/-256 and their -PLUS variants (RFC 5802, RFC 7677). The password never crosses the wire, the
 * server must prove it knows the password too (finish() insists), and -PLUS ties the proof to this TLS
 * connection so a man in the middle cannot relay it.
 */
export class ScramClient extends SaslClientBase {
  readonly mechanism: string;
  readonly #hash: ScramHash;
  readonly #username: string;
  readonly #password: Secret;
  readonly #gs2Header: string;
  readonly #bindingData: Buffer | undefined;
  readonly #createNonce: () => string;
  #state: ScramClientState = { step: 'start' };

  constructor(
    family: ScramFamily,
    plus: boolean,
    credentials: PasswordCredentials,
    context: SaslClientContext,
  ) {
    super();
    this.mechanism = plus ? `${family}-PLUS` : family;
    this.#hash = SCRAM_HASHES[family];
    // RFC 5802 §5.1 prepares the user name as a query (unassigned code points allowed), §2.2 the password
    // as a stored string; both must survive preparation non-empty.
    const user = requireUser(credentials.user, this.mechanism);
    this.#username = saslprep(user, { allowUnassigned: true, label: 'user name' });
    const password = saslprep(revealSecret(credentials.pass), { label: 'password' });
    if (this.#username === '' || password === '') {
      throw new AuthError(
        'EAUTH_PROTOCOL',
        `${this.mechanism} needs a user name and password that are not empty`,
      );
    }
    this.#password = new Secret(password);
    const binding = plus ? requireChannelBinding(this.mechanism, context.channelBinding) : undefined;
    this.#bindingData = binding?.data;
    this.#gs2Header = encodeGs2Header({
      channelBinding: gs2Flag(binding, context.channelBinding !== undefined),
      authzid: credentials.authzid || undefined,
    });
    this.#createNonce = context.nonce ?? createNonce;
  }

  /** client-first-message: SCRAM always starts with the client. */
  async initialResponse(): Promise<Buffer> {
    if (this.#state.step !== 'start') throw this.alreadyStarted();
    const nonce = this.#createNonce();
    if (!isValidNonce(nonce)) {
      throw new AuthError('EAUTH_PROTOCOL', 'a SCRAM nonce must be printable ASCII without ","');
    }
    const clientFirstBare = encodeClientFirstBare(this.#username, nonce);
    this.#state = { step: 'awaiting-server-first', clientFirstBare, nonce };
    return Buffer.from(this.#gs2Header + clientFirstBare, 'utf8');
  }

  /**
   * server-first → client-final; server-final (which SMTP carries in a 334, RFC 4954 §4) → empty response
   * after the server signature checks out. Without SASL-IR the first, empty challenge yields client-first.
   */
  async respond(challenge: Buffer): Promise<Buffer> {
    const state = this.#state;
    // Until a step succeeds the exchange counts as failed, so neither an error nor an overlapping call can
    // leave it half-done and later let finish() pass.
    this.#state = { step: 'failed' };
    switch (state.step) {
      case 'start':
        this.#state = state;
        return this.initialResponse();
      case 'awaiting-server-first':
        return this.#clientFinal(state.clientFirstBare, state.nonce, decodeText(challenge));
      case 'awaiting-server-final':
        this.#verifyServerFinal(state.expectedSignature, decodeText(challenge));
        return Buffer.alloc(0);
      default:
        throw this.unexpectedChallenge();
    }
  }

  /** On 235: a server that never sent a valid signature has not proved it knows the password. */
  override finish(): void {
    if (this.#state.step !== 'verified') {
      throw new AuthError(
        'EAUTH_SERVER_SIGNATURE',
        `the server accepted ${this.mechanism} without proving that it knows the password (no valid server signature)`,
        { hint: 'do not trust this connection: the server may be an impostor' },
      );
    }
  }

  async #clientFinal(clientFirstBare: string, clientNonce: string, serverFirst: string): Promise<Buffer> {
    const { nonce, salt, iterations } = parseServerFirst(serverFirst);
    if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
      throw new AuthError('EAUTH_PROTOCOL', 'the SCRAM server nonce does not extend the client nonce', {
        hint: 'the reply does not belong to this exchange and may have been replayed',
      });
    }
    if (iterations < MIN_ITERATIONS) {
      throw new AuthError(
        'EAUTH_PROTOCOL',
        `the server asks for ${iterations} SCRAM iterations; at least ${MIN_ITERATIONS} are required (RFC 7677)`,
        { hint: 'so few make a captured exchange cheap to brute-force and may be a downgrade attack' },
      );
    }
    if (iterations > MAX_ITERATIONS) {
      throw new AuthError(
        'EAUTH_PROTOCOL',
        `the server asks for ${iterations} SCRAM iterations; more than ${MAX_ITERATIONS} are refused`,
      );
    }
    const keys = await deriveScramKeys(this.#hash, this.#password.reveal(), salt, iterations);
    const withoutProof = encodeClientFinalWithoutProof(this.#gs2Header, this.#bindingData, nonce);
    const signed = authMessage(clientFirstBare, serverFirst, withoutProof);
    this.#state = {
      step: 'awaiting-server-final',
      expectedSignature: computeServerSignature(this.#hash, keys.serverKey, signed),
    };
    return Buffer.from(encodeClientFinal(withoutProof, computeClientProof(this.#hash, keys, signed)), 'utf8');
  }

  #verifyServerFinal(expectedSignature: Buffer, serverFinal: string): void {
    const final = parseServerFinal(serverFinal);
    if (final.kind === 'error') throw serverError(this.mechanism, final.error);
    if (!constantTimeEqual(final.signature, expectedSignature)) {
      throw new AuthError(
        'EAUTH_SERVER_SIGNATURE',
        `the ${this.mechanism} server signature is wrong: the server does not know the password`,
        { hint: 'do not trust this connection: the server may be an impostor' },
      );
    }
    this.#state = { step: 'verified' };
  }
}

function requireChannelBinding(mechanism: string, binding: ChannelBinding | undefined): ChannelBinding {
  if (binding === undefined) {
    throw new AuthError(
      'EAUTH_UNSUPPORTED',
      `${mechanism} needs TLS channel binding, which this connection lacks`,
      {
        hint: 'use it only over TLS, or choose the mechanism without -PLUS',
      },
    );
  }
  if (
    !CHANNEL_BINDING_TYPES.has(binding.type) ||
    !Buffer.isBuffer(binding.data) ||
    binding.data.length === 0
  ) {
    throw new AuthError('EAUTH_UNSUPPORTED', `${mechanism} got unusable channel-binding data`);
  }
  return binding;
}

/**
 * RFC 5802 §6: "p" when binding; "y" when this client could bind (it has binding data) but uses a mechanism
 * without -PLUS, telling a server that does support binding that its -PLUS offer was stripped.
 */
function gs2Flag(binding: ChannelBinding | undefined, clientCanBind: boolean): Gs2ChannelBindingFlag {
  if (binding) return { flag: 'p', name: binding.type };
  return clientCanBind ? { flag: 'y' } : { flag: 'n' };
}

function decodeText(challenge: Buffer): string {
  if (!isUtf8(challenge)) throw new AuthError('EAUTH_PROTOCOL', 'malformed SCRAM message: not UTF-8');
  return challenge.toString('utf8');
}

const SERVER_ERROR_HINTS: Readonly<Record<string, string>> = {
  'invalid-proof': 'the user name or password is wrong',
  'unknown-user': 'the user name or password is wrong',
  'server-does-support-channel-binding':
    'the server supports channel binding, but its -PLUS mechanisms were not seen: someone may have removed them from its offer',
  'channel-bindings-dont-match':
    'the server sees a different TLS connection: a TLS-terminating proxy or a man in the middle sits between',
};

/** server-final "e=": the server's reason is a short token from RFC 5802 §7, never a secret. */
function serverError(mechanism: string, value: string): AuthError {
  const reason = value.replace(/[^\x21-\x7e]/g, '?').slice(0, 64);
  return new AuthError('EAUTH_FAILED', `the server rejected ${mechanism}: ${reason}`, {
    hint: SERVER_ERROR_HINTS[reason],
  });
}
