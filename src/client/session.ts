import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import {
  AuthError,
  ConnectionError,
  InputError,
  type PosternError,
  SmtpReplyError,
  TlsError,
} from '../core/index.js';
import { connectTcp, startTls, type TlsDetails, type TlsSessionCache, tlsDetails } from '../net/index.js';
import * as commands from '../protocol/commands.js';
import { type Capabilities, heloCapabilities, parseEhlo, type Reply } from '../protocol/index.js';
import { type ClientTlsOptions, defaultTlsMode, type TlsMode } from '../tls/index.js';
import { authenticate, type PipelinedAuth, pipelinableAuth } from './authenticate.js';
import { DEFAULT_TIMEOUTS, type SessionOptions, type Timeouts } from './options.js';
import { authRejection, rejection } from './reply-errors.js';
import { requestStarttls } from './starttls.js';
import {
  type Envelope,
  type MessageSource,
  type PreparedTransaction,
  prepareTransaction,
  type SendOptions,
  type SendResult,
  transact,
} from './transaction.js';
import { Wire } from './wire.js';

/** Shared so the TLS layer can reuse one SecureContext (system roots) across sessions. */
const NO_TLS_OPTIONS: ClientTlsOptions = Object.freeze({});

/** What a connected session knows about its server. */
export interface SessionInfo {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly tlsMode: TlsMode;
  readonly tls: TlsDetails | undefined;
  readonly greeting: Reply;
  readonly capabilities: Capabilities;
  readonly authenticated: { readonly user: string; readonly mechanism: string } | undefined;
}

export interface SessionSendOptions extends SendOptions {
  /** Called once the message's bytes are all written; the connection may then take the next message. */
  readonly onWritten?: () => void;
  /**
   * Called once the envelope is written with PIPELINING: another message may line up behind this one, to be
   * written the moment this one's bytes are out.
   */
  readonly onStarted?: () => void;
  /**
   * This is the connection's last message: QUIT follows its last bytes in the same write (RFC 2920 lets
   * QUIT end a group), so the connection ends a round trip sooner. The session takes no message after it.
   */
  readonly quitAfter?: boolean;
}

export interface SessionExtras {
  /** Shared TLS session cache for resumption across connections (the transport passes its own). */
  readonly tlsSessionCache?: TlsSessionCache;
  /**
   * When `enabled`, AUTH PLAIN is not sent on its own but at the head of the first transaction's pipelined
   * group (RFC 4954 §4), saving a round trip per connection; the message is never written unless AUTH
   * succeeded. A server that mishandles it turns `enabled` off for the connections that follow. The
   * transport owns the switch; `open` without it authenticates before returning.
   */
  readonly pipelineAuth?: { enabled: boolean };
}

/**
 * One SMTP session: connect, greeting, EHLO, STARTTLS, AUTH, then any number of transactions.
 * Open one with `SmtpSession.open(options)`; `quit()` ends it politely.
 *
 * @example
 * const s = await SmtpSession.open({ host: 'mail.example.com', port: 587, auth: { user, pass } });
 * await s.send({ from: 'a@example.com', to: ['b@example.org'] }, 'Subject: hi\r\n\r\nHello\r\n');
 * await s.quit();
 */
export class SmtpSession {
  readonly #options: SessionOptions;
  readonly #timeouts: Required<Timeouts>;
  readonly #wire: Wire;
  readonly #label: string;
  #info: SessionInfo;
  #broken = false;
  /** A transaction (or command) is writing; the others wait in `#writeQueue`, first come first served. */
  #writing = false;
  #writeQueue: (() => void)[] = [];
  #inFlight = 0;
  /** The transaction written last ended with its message after 354, so the server is between transactions. */
  #lastEnded = false;
  /** AUTH still to be sent, at the head of the first transaction (SessionExtras.pipelineAuth). */
  #pendingAuth: PipelinedAuth | undefined;
  readonly #pipelineAuth: { enabled: boolean } | undefined;
  /** The last transaction failed: the server may be mid-transaction, so the next starts with RSET. */
  #dirty = false;
  #idle = false;
  readonly openedAt = Date.now();
  #messagesSent = 0;

  private constructor(
    options: SessionOptions,
    wire: Wire,
    pendingAuth: PipelinedAuth | undefined,
    pipelineAuth: { enabled: boolean } | undefined,
    info: SessionInfo,
  ) {
    this.#options = options;
    this.#pendingAuth = pendingAuth;
    this.#pipelineAuth = pipelineAuth;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#wire = wire;
    this.#label = wire.label;
    this.#info = info;
  }

  /** Connects, negotiates TLS as the mode demands, says EHLO and authenticates when credentials are given. */
  static async open(options: SessionOptions, extras: SessionExtras = {}): Promise<SmtpSession> {
    const mode: TlsMode = options.tls ?? defaultTlsMode(options.port ?? 587);
    const port = options.port ?? (mode === 'implicit' ? 465 : 587);
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const label = `${options.host}:${port}`;
    const tlsOptions = options.tlsOptions ?? NO_TLS_OPTIONS;
    const sessionKey = `${options.host}:${port}:${tlsOptions.servername ?? ''}`;

    if (options.auth && mode === 'none' && !options.allowPlaintextAuth) {
      throw new AuthError('EAUTH_PLAINTEXT', `refusing to send credentials to ${label} without TLS`, {
        phase: 'auth',
        hint: "use tls: 'starttls' or 'implicit'; set allowPlaintextAuth only for a trusted test server",
      });
    }

    const { socket: tcp, address } = await connectTcp({
      host: options.host,
      port,
      localAddress: options.localAddress,
      family: options.family,
      connectTimeout: timeouts.connect,
      signal: options.signal,
      lookup: options.lookup,
    });
    options.transcript?.({ type: 'connect', host: options.host, address, port, time: Date.now() });

    /** The TLS handshake (implicit or after STARTTLS), noted in the transcript. */
    const handshake = async (plain: typeof tcp, phase: 'tls' | 'starttls') => {
      const secure = await startTls(plain, {
        host: options.host,
        port,
        tls: tlsOptions,
        handshakeTimeout: timeouts.tls,
        signal: options.signal,
        phase,
        sessionCache: extras.tlsSessionCache,
        sessionKey,
      });
      if (options.transcript) {
        const t = tlsDetails(secure);
        options.transcript({
          type: 'tls',
          version: t.version,
          cipher: t.cipher,
          resumed: t.resumed,
          time: Date.now(),
        });
      }
      return secure;
    };

    let socket: Duplex = tcp;
    let tls: TlsDetails | undefined;
    try {
      if (mode === 'implicit') {
        const secure = await handshake(tcp, 'tls');
        socket = secure;
        tls = tlsDetails(secure);
      }
    } catch (err) {
      tcp.destroy();
      throw err;
    }

    const wire = new Wire(socket, { tls: tls !== undefined, label, transcript: options.transcript });
    try {
      const greeting = await wire.read(
        'greeting',
        timeouts.greeting,
        mode === 'implicit'
          ? undefined
          : port === 465
            ? "port 465 usually expects implicit TLS: use tls: 'implicit'"
            : 'the server accepted the connection but never greeted; it may expect implicit TLS',
      );
      if (greeting.code !== 220) throw rejection(greeting, 'the connection', 'greeting', label);
      const name = options.name ?? defaultEhloName(tcp.localAddress);
      let capabilities = await ehlo(wire, name, timeouts.command, label);

      if (mode === 'starttls' || (mode === 'opportunistic' && capabilities.starttls)) {
        if (!capabilities.starttls) {
          throw new TlsError('ESTARTTLS_UNAVAILABLE', `${label} does not offer STARTTLS`, {
            phase: 'starttls',
            hint:
              port === 465
                ? "port 465 normally speaks implicit TLS: use tls: 'implicit'"
                : "a man in the middle may have stripped it, or the server has no TLS; use tls: 'implicit' if it has a TLS port, or tls: 'opportunistic' to accept plaintext",
          });
        }
        const plain = await requestStarttls(wire, label, timeouts.command);
        const secure = await handshake(plain as typeof tcp, 'starttls');
        tls = tlsDetails(secure);
        wire.reattach(secure, true);
        // RFC 3207 §4.2: forget everything learned before TLS and ask again.
        capabilities = await ehlo(wire, name, timeouts.command, label);
      }

      let authenticated: SessionInfo['authenticated'];
      let pendingAuth: PipelinedAuth | undefined;
      if (options.auth) {
        if (!wire.tls && !options.allowPlaintextAuth) {
          throw new AuthError('EAUTH_PLAINTEXT', `refusing to send credentials to ${label} over plaintext`, {
            phase: 'auth',
            hint: capabilities.starttls
              ? "use tls: 'starttls'"
              : 'the server offered no STARTTLS; use its implicit TLS port (465) or set allowPlaintextAuth for a trusted test server',
          });
        }
        const authOptions = {
          authMethod: options.authMethod,
          timeout: timeouts.command,
          secure: wire.socket,
          host: options.host,
          port,
          label,
        };
        pendingAuth = extras.pipelineAuth?.enabled
          ? await pipelinableAuth(wire, capabilities, options.auth, authOptions)
          : undefined;
        const mechanism =
          pendingAuth?.mechanism ?? (await authenticate(wire, capabilities, options.auth, authOptions));
        authenticated = { user: options.auth.user, mechanism };
      }

      const session = new SmtpSession(options, wire, pendingAuth, extras.pipelineAuth, {
        host: options.host,
        port,
        address,
        tlsMode: mode,
        tls,
        greeting,
        capabilities,
        authenticated,
      });
      return session;
    } catch (err) {
      wire.destroy();
      throw err;
    }
  }

  get info(): SessionInfo {
    return this.#info;
  }

  get capabilities(): Capabilities {
    return this.#info.capabilities;
  }

  /** False once the connection failed, timed out, got a 421 or was closed. */
  get usable(): boolean {
    return !this.#broken && !this.#wire.closed;
  }

  /**
   * Sends one message: MAIL, RCPT for each recipient, then DATA or BDAT, pipelined where the server allows.
   * Resolves when the server accepted the message for at least one recipient (see `requireAllRecipients`).
   * Calls may overlap: with PIPELINING the next transaction is written while this one awaits its replies.
   */
  send(envelope: Envelope, source: MessageSource, options: SessionSendOptions = {}): Promise<SendResult> {
    if (!this.usable || this.#quitReply) return Promise.reject(this.#closedError());
    let prepared: PreparedTransaction;
    try {
      prepared = prepareTransaction(this.#info, envelope, source, {
        requireAllRecipients: options.requireAllRecipients,
        chunking: options.chunking ?? this.#options.chunking ?? true,
        pipelining: options.pipelining ?? this.#options.pipelining ?? true,
      });
    } catch (err) {
      return Promise.reject(err);
    }
    // The transaction starts synchronously when the connection is free, else the moment the one before it
    // has written its last byte — from inside that one's reply handling, so both leave in one write.
    return new Promise<SendResult>((resolve, reject) => {
      this.#whenWritable(() => {
        try {
          this.#transact(prepared, options).then(resolve, reject);
        } catch (err) {
          // Nothing in #transact throws synchronously; if something ever did, the send must still settle.
          reject(err);
          this.#releaseWrites();
        }
      });
    });
  }

  async #transact(prepared: PreparedTransaction, options: SessionSendOptions): Promise<SendResult> {
    let written = false;
    const onWritten = (ended = false) => {
      if (written) return;
      written = true;
      this.#lastEnded = ended;
      // QUIT may end a group only with PIPELINING (RFC 2920); without it quit() sends it after the reply.
      if (options.quitAfter && prepared.pipelined) this.#sendQuit();
      this.#releaseWrites();
      options.onWritten?.();
    };
    if (!this.usable || this.#quitReply) {
      onWritten();
      throw this.#closedError();
    }
    this.#messagesSent++;
    this.#inFlight++;
    // RSET first when the server may still be inside an earlier transaction: one that failed, or one still
    // in flight that did not end with a message after 354. Costs no round trip when pipelined.
    const prefixRset = this.#dirty || (this.#inFlight > 1 && !this.#lastEnded);
    this.#dirty = false;
    this.#lastEnded = false;
    const auth = this.#pendingAuth;
    this.#pendingAuth = undefined;
    try {
      // AUTH leads the group only where no message byte can leave before its 235: DATA, after 354.
      if (auth && !prepared.dataInGroup) await this.#authenticate(auth);
      return await transact(this.#wire, prepared, {
        timeouts: this.#timeouts,
        prefixRset,
        onWritten,
        onStarted: options.onStarted,
        auth: prepared.dataInGroup ? auth : undefined,
        onAuthRefused: () => {
          if (this.#pipelineAuth) this.#pipelineAuth.enabled = false;
        },
      });
    } catch (err) {
      this.#afterFailure(err as PosternError, prefixRset);
      throw err;
    } finally {
      onWritten();
      this.#inFlight--;
      if (this.#idle && this.#inFlight === 0) this.#ref(false);
    }
  }

  /** Transactions started on this connection (the pool retires a connection after maxMessages). */
  get messagesSent(): number {
    return this.#messagesSent;
  }

  /** Transactions written but not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The deferred AUTH on its own, for a first transaction that cannot carry it. */
  async #authenticate(auth: PipelinedAuth): Promise<void> {
    this.#wire.write(auth.line, auth.shown);
    const reply = await this.#wire.read('auth', this.#timeouts.command);
    if (reply.code !== 235) throw authRejection(reply, auth.mechanism, this.#label);
  }

  /** Runs `start` now when no transaction is writing, else hands it the connection once the writer is done. */
  #whenWritable(start: () => void): void {
    if (this.#writing) {
      this.#writeQueue.push(start);
      return;
    }
    this.#writing = true;
    start();
  }

  /** Writers that finished while a hand-over was under way (see #releaseWrites). */
  #handOvers = 0;
  #handingOver = false;

  /**
   * The writer is done: the next in line starts at once, in the same call stack (so what it writes joins the
   * write under way). A next writer that is done at once (its connection closed, say) hands over in turn from
   * this loop, not from a deeper call: thousands of queued sends on a dead session must not exhaust the stack.
   */
  #releaseWrites(): void {
    this.#handOvers++;
    if (this.#handingOver) return;
    this.#handingOver = true;
    try {
      while (this.#handOvers > 0) {
        this.#handOvers--;
        const next = this.#writeQueue.shift();
        if (next) next();
        else this.#writing = false;
      }
    } finally {
      this.#handingOver = false;
    }
  }

  /** Serialises writes for commands outside transactions: resolves with the function that releases. */
  #lockWrites(): Promise<() => void> {
    return new Promise((resolve) => {
      this.#whenWritable(() => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#releaseWrites();
        });
      });
    });
  }

  #closedError(): ConnectionError {
    return new ConnectionError('ECONNECTION_CLOSED', `the session to ${this.#label} is closed`, {
      transient: true,
    });
  }

  /** RSET: abandons any transaction in progress on the server. */
  async reset(): Promise<void> {
    const reply = await this.#command(commands.rset(), 'rset');
    this.#dirty = false;
    if (reply.code !== 250) {
      this.#broken = true;
      throw rejection(reply, 'RSET', 'rset', this.#label);
    }
  }

  /**
   * MAIL FROM, RCPT TO for each recipient (when MAIL was accepted), then RSET: what the server says to this
   * envelope, without sending a message — no DATA is ever written. For diagnostics (`postern doctor`).
   */
  async tryEnvelope(from: string, to: readonly string[] = []): Promise<{ mail: Reply; rcpt: Reply[] }> {
    if (!this.usable) throw this.#closedError();
    const mailLine = commands.mailFrom(from);
    const rcptLines = to.map((address) => commands.rcptTo(address));
    const release = await this.#lockWrites();
    try {
      const roundTrip = (line: string, phase: 'mail' | 'rcpt' | 'rset') => {
        this.#wire.write(line);
        return this.#wire.read(phase, this.#timeouts.command);
      };
      const mail = await roundTrip(mailLine, 'mail');
      const rcpt: Reply[] = [];
      if (mail.code === 250) for (const line of rcptLines) rcpt.push(await roundTrip(line, 'rcpt'));
      const reset = await roundTrip(commands.rset(), 'rset');
      if (reset.code !== 250) this.#broken = true;
      return { mail, rcpt };
    } catch (err) {
      this.close();
      throw err;
    } finally {
      release();
    }
  }

  async noop(): Promise<Reply> {
    const reply = await this.#command(commands.noop(), 'noop');
    if (reply.code === 421) this.#broken = true;
    return reply;
  }

  /** QUIT and close, after any transactions in flight; never throws (the server may already be gone). */
  async quit(): Promise<void> {
    if (!this.#wire.closed) {
      try {
        await (this.#quitReply ??
          this.#command(commands.quit(), 'quit', Math.min(this.#timeouts.command, 5_000)));
      } catch {
        // The server hung up first or was slow: the session is over either way.
      }
    }
    this.#wire.end();
    await this.#wire.closedPromise(2_000);
  }

  /** The reply to a QUIT already written after the last message (SessionSendOptions.quitAfter). */
  #quitReply: Promise<Reply> | undefined;

  /** Writes QUIT behind the message just written, in the same write when that one is still corked. */
  #sendQuit(): void {
    if (this.#quitReply || this.#wire.closed) return;
    try {
      this.#wire.write(commands.quit());
      this.#quitReply = this.#wire.read('quit', Math.min(this.#timeouts.command, 5_000));
    } catch {
      // The connection already failed; quit() closes it.
    }
  }

  /** One command in turn with the transactions' writes, its reply reserved in order. */
  async #command(
    line: string,
    phase: 'rset' | 'noop' | 'quit',
    timeout = this.#timeouts.command,
  ): Promise<Reply> {
    const release = await this.#lockWrites();
    let reply: Promise<Reply>;
    try {
      this.#wire.write(line);
      reply = this.#wire.read(phase, timeout);
    } finally {
      release();
    }
    return reply;
  }

  /** Closes at once without QUIT. */
  close(): void {
    this.#broken = true;
    this.#wire.destroy();
  }

  /** Lets a pooled idle connection not keep the process alive (once nothing is in flight). */
  setIdle(idle: boolean): void {
    this.#idle = idle;
    if (!idle || this.#inFlight === 0) this.#ref(!idle);
  }

  #ref(on: boolean): void {
    const s = this.#wire.socket as Duplex & { ref?: () => void; unref?: () => void };
    if (on) s.ref?.();
    else s.unref?.();
  }

  #afterFailure(err: PosternError, rsetPlanned: boolean): void {
    // Input errors are raised before anything is written: the session is untouched.
    if (err instanceof InputError && !this.#wire.closed) {
      // The RSET this transaction would have sent was not written either: keep the need for it.
      if (rsetPlanned) this.#dirty = true;
      return;
    }
    // A rejected transaction may leave the server mid-transaction: the next one starts with RSET.
    // A 421 or a broken connection ends the session.
    if (err instanceof SmtpReplyError && err.reply && err.reply.code !== 421 && !this.#wire.closed) {
      this.#dirty = true;
      return;
    }
    this.close();
  }
}

async function ehlo(wire: Wire, name: string, timeout: number, label: string): Promise<Capabilities> {
  wire.write(commands.ehlo(name));
  const reply = await wire.read('ehlo', timeout);
  if (reply.code === 250) return parseEhlo(reply);
  if (reply.code === 500 || reply.code === 502 || reply.code === 504 || reply.code === 550) {
    // An old server without ESMTP: HELO, and no extensions (RFC 5321 §3.2).
    wire.write(commands.helo(name));
    const helo = await wire.read('ehlo', timeout);
    if (helo.code === 250) return heloCapabilities(helo);
    throw rejection(helo, 'HELO', 'ehlo', label);
  }
  throw rejection(reply, 'EHLO', 'ehlo', label);
}

/** A fully qualified host name, or the address literal of the local end (RFC 5321 §4.1.4). */
function defaultEhloName(localAddress: string | undefined): string {
  const host = hostname();
  if (host.includes('.') && /^[a-z0-9.-]+$/i.test(host)) return host;
  if (!localAddress) return '[127.0.0.1]';
  const v4 = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  return v4.includes(':') ? `[IPv6:${v4}]` : `[${v4}]`;
}
