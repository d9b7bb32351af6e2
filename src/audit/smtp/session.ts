/**
 * One audit connection to an SMTP target: connect (with implicit TLS when the target wants it), read the
 * greeting, send commands one at a time or in deliberate bundles, upgrade with STARTTLS. Every wait has the
 * target's timeout, an abort closes the socket at once, and every failure is a typed PosternError.
 *
 * Certificates are never checked here (insecureSkipVerify): whether the certificate is trusted is the
 * certificate probe's verdict, and the SMTP checks must run whatever it finds.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Wire } from '../../client/wire.js';
import { type Phase, PosternError, ProtocolError, SmtpReplyError, TlsError } from '../../core/errors.js';
import { abortError } from '../../core/timeout.js';
import { startTls } from '../../net/index.js';
import * as commands from '../../protocol/commands.js';
import {
  type Capabilities,
  formatReply,
  heloCapabilities,
  parseEhlo,
  type Reply,
} from '../../protocol/index.js';
import type { ClientTlsOptions } from '../../tls/index.js';
import { DEFAULT_AUDIT_TIMEOUT, DEFAULT_EHLO_NAME, openTcp, targetLabel } from '../connect.js';
import type { AuditTarget } from '../types.js';
import { ehloKeywords } from './verdicts.js';

/** What every connection of one scan shares. */
export interface ProbeContext {
  readonly target: AuditTarget;
  readonly label: string;
  readonly timeout: number;
  readonly ehloName: string;
  /** One object for the whole scan, so the TLS context is built once. */
  readonly tls: ClientTlsOptions;
  readonly signal: AbortSignal | undefined;
}

export function probeContext(
  target: AuditTarget,
  o: { ca?: Buffer | undefined; signal?: AbortSignal | undefined },
): ProbeContext {
  return {
    target,
    label: targetLabel(target),
    timeout: target.timeout ?? DEFAULT_AUDIT_TIMEOUT,
    ehloName: target.ehloName ?? DEFAULT_EHLO_NAME,
    // Legacy versions allowed: an old server's SMTP behaviour is still worth reporting.
    tls: {
      insecureSkipVerify: true,
      allowLegacyTls: true,
      ...(target.servername !== undefined ? { servername: target.servername } : {}),
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
    },
    signal: o.signal,
  };
}

/** The reply to EHLO (or to HELO when EHLO was refused) with what it offers. */
export interface Greeted {
  readonly reply: Reply;
  readonly capabilities: Capabilities;
  /** EHLO keywords as sent ([] after a HELO fallback). */
  readonly keywords: readonly string[];
  /** EHLO was refused and HELO used instead. */
  readonly helo: boolean;
}

export class ProbeSession {
  readonly #ctx: ProbeContext;
  readonly #wire: Wire;
  readonly #sockets: Duplex[];
  readonly #onAbort: () => void;
  #done = false;

  private constructor(ctx: ProbeContext, wire: Wire, socket: Duplex) {
    this.#ctx = ctx;
    this.#wire = wire;
    this.#sockets = [socket];
    this.#onAbort = () => this.destroy();
    ctx.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Connects (with the TLS handshake for implicit TLS) and reads the greeting, whatever its code. */
  static async open(ctx: ProbeContext): Promise<{ session: ProbeSession; greeting: Reply }> {
    const raw = await openTcp(ctx.target, ctx.signal);
    // Errors surface through the Wire and startTls; this keeps a stray one from crashing the process.
    raw.on('error', () => undefined);
    let socket: Duplex = raw;
    if (ctx.target.mode === 'implicit') socket = await handshake(ctx, raw, 'tls');
    const wire = new Wire(socket, { tls: ctx.target.mode === 'implicit', label: ctx.label });
    const session = new ProbeSession(ctx, wire, raw);
    if (socket !== raw) session.#sockets.push(socket);
    try {
      const greeting = await session.read('greeting');
      return { session, greeting };
    } catch (err) {
      session.destroy();
      throw err;
    }
  }

  get tls(): boolean {
    return this.#wire.tls;
  }

  /** Writes text exactly as given (one write: pipelined commands leave together). */
  write(text: string, shown?: string): void {
    this.#guardSync(() => this.#wire.write(text, shown));
  }

  /** The next reply, within the timeout. */
  read(phase: Phase, hint?: string): Promise<Reply> {
    return this.#guard(this.#wire.read(phase, this.#ctx.timeout, hint));
  }

  /** Writes one command line and reads its reply. */
  async command(line: string, phase: Phase, shown?: string): Promise<Reply> {
    this.write(line, shown);
    return this.read(phase);
  }

  /** EHLO, falling back to HELO when the server refuses EHLO with a 5xx. */
  async ehlo(): Promise<Greeted> {
    const reply = await this.command(commands.ehlo(this.#ctx.ehloName), 'ehlo');
    if (reply.code === 250) {
      return { reply, capabilities: parseEhlo(reply), keywords: ehloKeywords(reply), helo: false };
    }
    if (reply.code >= 500) {
      const helo = await this.command(commands.helo(this.#ctx.ehloName), 'ehlo');
      if (helo.code === 250)
        return { reply: helo, capabilities: heloCapabilities(helo), keywords: [], helo: true };
      throw refused('HELO', helo, 'ehlo', this.#ctx.label);
    }
    throw refused('EHLO', reply, 'ehlo', this.#ctx.label);
  }

  /** Bytes or replies received but not read yet (after a 220 to STARTTLS: plaintext sent ahead of TLS). */
  get unread(): number {
    return this.#wire.unreadBytes;
  }

  /** Our end of the connection: the local IP address ('' once closed). */
  get localAddress(): string {
    return (this.#sockets[0] as Socket).localAddress ?? '';
  }

  /**
   * The TLS handshake after the server said 220 to STARTTLS (the caller sent it and read the 220);
   * nothing received before the handshake is kept. A failed handshake destroys the session: the wire is
   * detached by then, so nothing more could be read on it, and quit() must not wait for a reply there.
   */
  async upgrade(): Promise<void> {
    const raw = this.#wire.detach() as Socket;
    let secure: Duplex;
    try {
      secure = await this.#guard(handshake(this.#ctx, raw, 'starttls'));
    } catch (err) {
      this.destroy();
      throw err;
    }
    this.#sockets.push(secure);
    this.#wire.reattach(secure, true);
  }

  /** STARTTLS, the handshake and EHLO again. A refusal throws ESTARTTLS_FAILED with the reply. */
  async starttls(): Promise<Greeted> {
    const ready = await this.command(commands.starttls(), 'starttls');
    if (ready.code !== 220) {
      throw new TlsError('ESTARTTLS_FAILED', `${this.#ctx.label} refused STARTTLS: ${formatReply(ready)}`, {
        reply: ready,
        command: 'STARTTLS',
        phase: 'starttls',
      });
    }
    if (this.unread > 0) {
      throw new ProtocolError(
        'ESTARTTLS_INJECTION',
        `${this.#ctx.label} sent data after "220 ready to start TLS" before the TLS handshake`,
        { phase: 'starttls' },
      );
    }
    await this.upgrade();
    return this.ehlo();
  }

  /** QUIT when the connection still works, then closes it; never throws. Does nothing after destroy(). */
  async quit(): Promise<void> {
    if (this.#done) return;
    try {
      if (!this.#wire.closed) await this.command(commands.quit(), 'quit');
    } catch {
      // the verdicts are in; a server that does not say goodbye changes none of them
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.#done = true;
    this.#ctx.signal?.removeEventListener('abort', this.#onAbort);
    this.#wire.destroy();
    for (const s of this.#sockets) s.destroy();
  }

  /** Turns a failure after an abort into EABORTED, so the caller learns why it stopped. */
  async #guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (this.#ctx.signal?.aborted) throw abortError(this.#ctx.signal);
      throw err;
    }
  }

  #guardSync(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (this.#ctx.signal?.aborted) throw abortError(this.#ctx.signal);
      throw err;
    }
  }
}

function handshake(ctx: ProbeContext, raw: Socket, phase: 'tls' | 'starttls'): ReturnType<typeof startTls> {
  return startTls(raw, {
    host: ctx.target.host,
    port: ctx.target.port,
    tls: ctx.tls,
    handshakeTimeout: ctx.timeout,
    signal: ctx.signal,
    phase,
  });
}

function refused(command: string, reply: Reply, phase: Phase, label: string): PosternError {
  return new SmtpReplyError('ESMTP_REJECTED', `${label} refused ${command}: ${formatReply(reply)}`, {
    reply,
    command,
    phase,
  });
}

/**
 * A session ready for mail commands: greeted with 220, EHLO sent and, when `upgrade` is set and the server
 * offers STARTTLS, upgraded and greeted again. Throws when the server refuses the connection.
 */
export async function openReady(
  ctx: ProbeContext,
  upgrade: boolean,
): Promise<{ session: ProbeSession; greeted: Greeted }> {
  const { session, greeting } = await ProbeSession.open(ctx);
  try {
    if (greeting.code !== 220) throw refused('the connection', greeting, 'greeting', ctx.label);
    let greeted = await session.ehlo();
    if (upgrade && !session.tls && greeted.capabilities.starttls) greeted = await session.starttls();
    return { session, greeted };
  } catch (err) {
    session.destroy();
    throw err;
  }
}

/** Rethrows an abort, so a probe that turns failures into evidence still stops when asked to. */
export function rethrowAbort(err: unknown): void {
  if (err instanceof PosternError && err.code === 'EABORTED') throw err;
}

/** An error as one line of evidence: its code and message. */
export function describeError(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string')
    return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
