/**
 * The backend: typed, optional, async hooks called as the session goes on. A hook refuses by throwing an
 * SmtpReplyError (see `reject`); its reply goes to the client. Any other error is logged and the client gets
 * 451 4.3.0 — internal error text never reaches the wire.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../core/index.js';
import type { ServerTlsInfo } from '../net/index.js';
import type { MailParameters, RcptParameters } from '../protocol/index.js';
import { Replies, replyOfError, type ServerReply } from './replies.js';
import type { Envelope, RemoteInfo, SessionInfo } from './session.js';

export type Awaitable<T> = T | Promise<T>;

/** What AUTH established. */
export interface AuthIdentity {
  readonly user: string;
  readonly mechanism: string;
  /** Present only when the client asked to act as someone else; allowed only when a hook accepts it. */
  readonly authzid?: string | undefined;
}

/** onData may name the id reported in "250 … queued as ID"; the envelope id otherwise. */
export interface DataResult {
  readonly id?: string;
}

export interface ServerBackend {
  /** A client connected (after the PROXY header and implicit TLS). Throw to refuse it. */
  onConnect?(remote: RemoteInfo, tls: ServerTlsInfo | undefined, session: SessionInfo): Awaitable<void>;
  onHelo?(name: string, session: SessionInfo): Awaitable<void>;
  /**
   * AUTH succeeded for `identity`. Throw to refuse it anyway (policy). Without this hook an `authzid` other than
   * the user is refused: acting as someone else needs an explicit yes.
   */
  onAuth?(identity: AuthIdentity, session: SessionInfo): Awaitable<void>;
  onMailFrom?(address: string, params: MailParameters, session: SessionInfo): Awaitable<void>;
  /** Called per recipient. */
  onRcptTo?(address: string, params: RcptParameters, session: SessionInfo): Awaitable<void>;
  /**
   * The message (Received header first, then the bytes as received, dot-unstuffed), streamed with
   * backpressure. Resolve once it is safely stored: the 250 is sent only then. If the stream errors, the
   * message was not completed (too large, client gone) and must be discarded.
   * Without this hook messages go to the server's store.
   */
  onData?(stream: Readable, envelope: Envelope, session: SessionInfo): Awaitable<DataResult | undefined>;
  /** The transaction was abandoned (RSET, a new EHLO/HELO, STARTTLS). */
  onReset?(session: SessionInfo): Awaitable<void>;
  /** The connection ended. Errors here are logged only. */
  onClose?(session: SessionInfo): Awaitable<void>;
}

export type HookOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reply: ServerReply };

/**
 * Runs a hook, turning a thrown SmtpReplyError into its reply and anything else into 451 4.3.0 (logged,
 * unless `quiet()` says the failure was expected).
 *
 * @example const outcome = await callHook(() => backend.onHelo?.(name, session), logger, 'onHelo', session.id);
 */
export async function callHook<T>(
  call: () => Awaitable<T>,
  logger: Logger,
  name: string,
  sessionId: string,
  quiet?: () => boolean,
): Promise<HookOutcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    const reply = replyOfError(error);
    if (reply) return { ok: false, reply };
    if (!quiet?.())
      logger.error(`the ${name} hook failed`, { session: sessionId, error: describeError(error) });
    return { ok: false, reply: Replies.localError };
  }
}

/** An error's message for logs (logs are local; the wire never gets this). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
