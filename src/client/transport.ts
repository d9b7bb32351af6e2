import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { InputError, type PosternError, Secret, sleep } from '../core/index.js';
import { type TlsDetails, TlsSessionCache } from '../net/index.js';
import type { Capabilities, Reply } from '../protocol/index.js';
import type { Credentials } from '../sasl/index.js';
import type { SessionOptions } from './options.js';
import { Pool, type PoolOptions } from './pool.js';
import { SmtpSession } from './session.js';
import type { Envelope, MessageSource, SendOptions, SendResult } from './transaction.js';
import { parseSmtpUrl } from './url.js';

/** Transactions that may be in flight on one connection before it stops taking more. */
const MAX_IN_FLIGHT = 32;

/** Retries for transient failures (4xx, timeouts, connection lost before the final reply). */
export interface RetryOptions {
  /** Extra attempts after the first (default 2). */
  readonly retries?: number;
  /** First backoff in ms (default 1000); doubles each time, with jitter. */
  readonly minDelay?: number;
  /** Cap on one backoff in ms (default 30000). */
  readonly maxDelay?: number;
}

/** At most `messages` sends started per `per` milliseconds. */
export interface RateLimit {
  readonly messages: number;
  readonly per: number;
}

/** What a composer hands the transport: the envelope the message implies and its bytes, replayable. */
export interface ComposedSource {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly messageId: string;
  readonly size: number | undefined;
  readonly needsSmtpUtf8: boolean;
  readonly eightBit: boolean;
  /** Identical bytes on every call (retries resend them). */
  stream(): Readable;
  dispose?(): Promise<void>;
}

/**
 * Turns a message object into bytes for a server with the given extensions. The public `createTransport`
 * plugs in Postern's MIME composer (and DKIM); the client itself stays independent of mime/.
 */
export type MessageComposer<M> = (
  message: M,
  server: { readonly smtpUtf8: boolean; readonly eightBitMime: boolean },
) => Promise<ComposedSource>;

export interface TransportOptions extends SessionOptions {
  /** Reuse connections (default true). `false` opens one connection per message. */
  readonly pool?: boolean | PoolOptions;
  /** `false` disables retries. */
  readonly retry?: false | RetryOptions;
  readonly rateLimit?: RateLimit;
}

/** A message source, or a function that makes a fresh one for each attempt (so streams can be retried). */
export type ReplayableSource = MessageSource | (() => MessageSource);

export interface MessageSendResult extends TransportSendResult {
  /** The Message-ID of the composed message, with angle brackets. */
  readonly messageId: string;
  /** The envelope used: from the message's addresses unless it gave one. */
  readonly envelope: Envelope;
}

export interface TransportSendResult extends SendResult {
  /** How many attempts it took (1 = first try). */
  readonly attempts: number;
  readonly tls: TlsDetails | undefined;
}

export interface VerifyResult {
  readonly greeting: Reply;
  readonly capabilities: Capabilities;
  readonly tls: TlsDetails | undefined;
  readonly authenticated: { readonly user: string; readonly mechanism: string } | undefined;
}

/**
 * Sends mail over pooled SMTP sessions with retries and optional rate limiting.
 *
 * @example
 * const transport = createTransport('smtps://me%40example.com:secret@mail.example.com');
 * await transport.sendRaw({ from: 'me@example.com', to: ['you@example.org'] }, rawMessage);
 * await transport.close();
 */
export class Transport {
  readonly #options: TransportOptions;
  readonly #pool: Pool<SmtpSession>;
  readonly #tlsSessions = new TlsSessionCache();
  readonly #pooled: boolean;
  readonly #recent: number[] = [];

  readonly #composer: MessageComposer<unknown> | undefined;

  /** AUTH PLAIN rides with the first message of each connection until a server mishandles it. */
  readonly #pipelineAuth = { enabled: true };

  constructor(options: TransportOptions, composer?: MessageComposer<unknown>) {
    this.#composer = composer;
    this.#options = { ...options, auth: hideCredentials(options.auth) };
    this.#pooled = options.pool !== false;
    const poolOptions = typeof options.pool === 'object' ? options.pool : {};
    this.#pool = new Pool(
      () =>
        SmtpSession.open(this.#options, {
          tlsSessionCache: this.#tlsSessions,
          pipelineAuth: this.#pipelineAuth,
        }),
      poolOptions,
    );
  }

  /**
   * Composes a message object (from, to, subject, text, html, attachments, …) and sends it. Encodings follow
   * what the server offers (8BITMIME, SMTPUTF8); the envelope comes from the addresses unless given.
   */
  async send(message: unknown, options: SendOptions = {}): Promise<MessageSendResult> {
    const composer = this.#composer;
    if (!composer) {
      throw new InputError('ECONFIG', 'this transport has no message composer', {
        hint: "create it with createTransport from 'postern', or use sendRaw with ready-made bytes",
      });
    }
    let composed: ComposedSource | undefined;
    let envelope: Envelope | undefined;
    try {
      const result = await this.#attempts(
        true,
        async (session) => {
          composed ??= await composer(message, {
            smtpUtf8: session.capabilities.smtpUtf8,
            eightBitMime: session.capabilities.eightBitMime,
          });
          envelope = {
            from: composed.envelope.from,
            to: composed.envelope.to,
            smtpUtf8: composed.needsSmtpUtf8 || undefined,
            body: composed.eightBit ? '8BITMIME' : undefined,
            size: composed.size,
          };
          return { envelope, source: composed.stream() };
        },
        options,
      );
      return { ...result, messageId: composed!.messageId, envelope: envelope! };
    } finally {
      await composed?.dispose?.();
    }
  }

  /** Sends a ready-made RFC 5322 message (string, bytes or stream) to the envelope's recipients. */
  sendRaw(
    envelope: Envelope,
    source: ReplayableSource,
    options: SendOptions = {},
  ): Promise<TransportSendResult> {
    const replayable =
      typeof source === 'function' || typeof source === 'string' || source instanceof Uint8Array;
    return this.#attempts(
      replayable,
      () => ({ envelope, source: typeof source === 'function' ? source() : source }),
      options,
    );
  }

  /** One send with retries: each attempt takes a pooled session and asks `prepare` for what to send. */
  async #attempts(
    replayable: boolean,
    prepare: (
      session: SmtpSession,
    ) =>
      | { envelope: Envelope; source: MessageSource }
      | Promise<{ envelope: Envelope; source: MessageSource }>,
    options: SendOptions,
  ): Promise<TransportSendResult> {
    const retry = this.#options.retry === false ? { retries: 0 } : (this.#options.retry ?? {});
    const retries = retry.retries ?? 2;
    for (let attempt = 1; ; attempt++) {
      if (this.#options.rateLimit) await this.#throttle();
      const session = await this.#pool.acquire();
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        // Not pooled: one connection per message, retired (QUIT in the background) as soon as it is done.
        this.#pool.release(session, { retire: !this.#pooled });
      };
      try {
        // Pooled, the connection takes the next message once this one's envelope is written: that one
        // lines up in the session and is written the moment this one's message is out (pipelining).
        const next = () => {
          if (this.#pooled && session.inFlight < MAX_IN_FLIGHT) release();
        };
        const prepared = prepare(session);
        const { envelope, source } = prepared instanceof Promise ? await prepared : prepared;
        const result = await session.send(envelope, source, {
          ...options,
          onWritten: next,
          onStarted: next,
          // Not pooled, the connection ends with this message: QUIT rides with its last bytes.
          quitAfter: !this.#pooled,
        });
        return { ...result, attempts: attempt, tls: session.info.tls };
      } catch (err) {
        const error = err as PosternError;
        if (!error.transient || attempt > retries || !replayable) throw error;
        const base = Math.min(retry.maxDelay ?? 30_000, (retry.minDelay ?? 1_000) * 2 ** (attempt - 1));
        await sleep(base / 2 + Math.random() * (base / 2), this.#options.signal);
      } finally {
        release();
      }
    }
  }

  /** Connects, negotiates TLS, authenticates and quits: checks that the settings work. */
  async verify(): Promise<VerifyResult> {
    const session = await SmtpSession.open(this.#options, { tlsSessionCache: this.#tlsSessions });
    const info = session.info;
    await session.quit();
    return {
      greeting: info.greeting,
      capabilities: info.capabilities,
      tls: info.tls,
      authenticated: info.authenticated,
    };
  }

  /** Closes idle connections; the transport cannot send afterwards. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  [inspect.custom](): string {
    const o = this.#options;
    return `Transport { host: ${o.host}, port: ${o.port ?? 'default'}, tls: ${o.tls ?? 'default'}, user: ${o.auth?.user ?? 'none'} }`;
  }

  async #throttle(): Promise<void> {
    const limit = this.#options.rateLimit;
    if (!limit) return;
    for (;;) {
      const now = Date.now();
      while (this.#recent.length > 0 && now - this.#recent[0]! >= limit.per) this.#recent.shift();
      if (this.#recent.length < limit.messages) {
        this.#recent.push(now);
        return;
      }
      await sleep(limit.per - (now - this.#recent[0]!), this.#options.signal);
    }
  }
}

/** Keeps passwords and tokens as Secrets so no inspect or log of the options can show them. */
function hideCredentials(auth: Credentials | undefined): Credentials | undefined {
  if (!auth) return undefined;
  if ('pass' in auth) return { ...auth, pass: Secret.from(auth.pass) };
  if (typeof auth.accessToken === 'string') return { ...auth, accessToken: new Secret(auth.accessToken) };
  return auth;
}

/**
 * Creates a transport from a URL (`smtps://user:pass@host:465`, `smtp://host:587?tls=opportunistic`)
 * or an options object; options given with a URL override what it says.
 */
export function createTransport(
  urlOrOptions: string | TransportOptions,
  overrides: Partial<TransportOptions> = {},
  composer?: MessageComposer<unknown>,
): Transport {
  const base = typeof urlOrOptions === 'string' ? parseSmtpUrl(urlOrOptions) : urlOrOptions;
  return new Transport({ ...base, ...overrides } as TransportOptions, composer);
}
