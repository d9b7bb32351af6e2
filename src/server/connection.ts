/**
 * One client connection: opening (PROXY header, connection limits, implicit TLS, early-talker check,
 * greeting), the command loop, and the I/O the command handlers use. What each command does lives in the
 * handler table (handlers.ts); this file only reads lines, dispatches them and writes replies in order.
 * Replies are queued (reply-queue.ts) and written when the connection is about to wait for the client.
 */
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../core/index.js';
import {
  acceptTls,
  type ServerTlsContexts,
  type ServerTlsInfo,
  serverChannelBindings,
  serverTlsInfo,
  socketAddresses,
} from '../net/index.js';
import { parseCommand } from '../protocol/index.js';
import { dispatchCommand } from './handlers.js';
import { type Awaitable, callHook, type HookOutcome } from './hooks.js';
import { newId } from './ids.js';
import { type ChunkRead, type LineRead, readProxyHeader, SocketInput } from './input.js';
import type { AuthThrottle, ConnectionCounter } from './limits.js';
import type { ResolvedEndpoint, ResolvedOptions } from './options.js';
import { formatServerReply, Replies, type ServerReply } from './replies.js';
import { ReplyQueue } from './reply-queue.js';
import type { RemoteInfo, SessionInfo } from './session.js';
import { heloOf, inTransaction, type Phase } from './state.js';
import type { MessageStore } from './stores/types.js';

/** What every connection of one server shares. */
export interface ServerRuntime {
  readonly options: ResolvedOptions;
  readonly store: MessageStore;
  readonly counter: ConnectionCounter;
  readonly authThrottle: AuthThrottle;
  readonly fakeSaltSecret: Buffer;
  /** Undefined when no endpoint uses TLS. */
  tlsContexts(): ServerTlsContexts | undefined;
  /** Trusted-upstream check of an endpoint with PROXY protocol. */
  isTrustedProxy(endpoint: ResolvedEndpoint, address: string): boolean;
}

/** After we end a connection, how long the client gets to close its side before the socket is destroyed. */
const LINGER_MS = 2000;

/** One turn of the event loop's I/O phase: bytes already received by the kernel are read by then. */
function ioTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

type ChannelBindings = ReturnType<typeof serverChannelBindings>;

export class Connection {
  readonly id = newId(10);
  readonly runtime: ServerRuntime;
  readonly endpoint: ResolvedEndpoint;
  readonly log: Logger;
  readonly session: SessionInfo;
  phase: Phase = { kind: 'connected' };

  readonly #raw: Socket;
  #socket: Socket;
  readonly #input = new SocketInput();
  readonly #replies = new ReplyQueue();
  #remote: RemoteInfo;
  #local: { address: string; port: number };
  #proxied = false;
  #tls: ServerTlsInfo | undefined;
  #bindings: ChannelBindings | undefined;
  #user: string | undefined;
  #messages = 0;
  #badCommands = 0;
  #authFailures = 0;
  #holdsSlot = false;
  #stopping = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(socket: Socket, endpoint: ResolvedEndpoint, runtime: ServerRuntime) {
    this.#raw = socket;
    this.#socket = socket;
    this.endpoint = endpoint;
    this.runtime = runtime;
    this.log = runtime.options.logger;
    // The raw socket keeps a listener for its whole life: a late ECONNRESET must never go unhandled.
    socket.on('error', () => {});
    const { remote, local } = socketAddresses(socket);
    this.#remote = remote;
    this.#local = local;
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    const self = this;
    this.session = {
      id: this.id,
      endpoint: { host: endpoint.host, port: endpoint.port, tls: endpoint.tls },
      get remote() {
        return self.#remote;
      },
      get local() {
        return self.#local;
      },
      get proxied() {
        return self.#proxied;
      },
      get tls() {
        return self.#tls;
      },
      get helo() {
        return heloOf(self.phase);
      },
      get user() {
        return self.#user;
      },
      get messages() {
        return self.#messages;
      },
    };
  }

  get tls(): ServerTlsInfo | undefined {
    return this.#tls;
  }

  get user(): string | undefined {
    return this.#user;
  }

  get remote(): RemoteInfo {
    return this.#remote;
  }

  /**
   * Channel binding data, under TLS only. Made on first use (SCRAM-*-PLUS, or EHLO offering AUTH): reading
   * our own certificate back for every connection costs CPU and memory most connections never need.
   */
  get channelBindings(): ChannelBindings | undefined {
    if (this.#tls && !this.#bindings) this.#bindings = serverChannelBindings(this.#socket as TLSSocket);
    return this.#bindings;
  }

  /** Bytes the client sent that no command has consumed yet. */
  get pendingInput(): number {
    return this.#input.buffered;
  }

  /** Resolves when the connection is fully closed. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Runs the connection to its end; never rejects. */
  async run(): Promise<void> {
    try {
      if (await this.#open()) await this.#loop();
    } catch (error) {
      this.log.error('connection failed', { session: this.id, error: String(error) });
    } finally {
      await this.#finish();
    }
  }

  /** Graceful shutdown: the connection ends at its next wait for a command outside a transaction. */
  stop(): void {
    this.#stopping = true;
    this.#input.interrupt();
  }

  /** Ends the connection now. */
  destroy(): void {
    this.close('server closed');
    this.#socket.destroy();
    this.#raw.destroy();
  }

  // ---- opening ----

  async #open(): Promise<boolean> {
    this.#input.beforeWait = () => this.flush();
    this.#input.attach(this.#raw);
    if (this.endpoint.proxyProtocol && !(await this.#readProxyHeader())) return false;
    const slot = this.runtime.counter.acquire(this.#remote.address, this.runtime.options.limits);
    this.#holdsSlot = slot === 'ok';
    this.#emit({
      type: 'connect',
      host: this.endpoint.host,
      address: this.#remote.address,
      port: this.#remote.port,
      time: Date.now(),
    });
    this.log.info('connect', {
      session: this.id,
      remote: this.#remote.address,
      port: this.#remote.port,
      endpoint: `${this.endpoint.tls}://${this.endpoint.host}:${this.endpoint.port}`,
      proxied: this.#proxied,
    });
    if (this.endpoint.tls === 'implicit' && !(await this.upgradeToTls())) return false;
    if (slot !== 'ok') {
      this.send(slot === 'total' ? Replies.tooManyConnections : Replies.tooManyFromYou);
      this.close(`connection limit (${slot})`);
      return false;
    }
    // An SMTP client speaks only after reading the greeting. Waiting one I/O turn before sending it costs
    // microseconds and catches clients that talk first (spam bots pipelining blindly) without a fixed delay.
    await ioTurn();
    if (this.#input.buffered > 0) return this.#refuseEarlyTalker();
    const backend = this.runtime.options.backend;
    const connected = await this.hook('onConnect', () =>
      backend.onConnect?.(this.#remote, this.#tls, this.session),
    );
    if (!connected.ok) {
      this.send(connected.reply);
      this.close('refused by onConnect');
      return false;
    }
    if (this.#input.buffered > 0) return this.#refuseEarlyTalker();
    this.send(Replies.greeting(this.runtime.options.hostname));
    return true;
  }

  #refuseEarlyTalker(): false {
    this.log.warn('client talked before the greeting', { session: this.id, remote: this.#remote.address });
    this.#input.discard();
    this.send(Replies.pregreet);
    this.close('talked before the greeting');
    return false;
  }

  async #readProxyHeader(): Promise<boolean> {
    const fail = (reason: string) => {
      this.log.warn('PROXY protocol header refused', {
        session: this.id,
        remote: this.#remote.address,
        reason,
      });
      this.close(reason);
      return false;
    };
    if (!this.runtime.isTrustedProxy(this.endpoint, this.#remote.address)) return fail('untrusted upstream');
    const timeout = Math.min(this.runtime.options.limits.commandTimeout, 10_000);
    const read = await readProxyHeader(this.#input, timeout);
    if ('problem' in read) return fail(read.problem);
    if (read.header.kind === 'proxy') {
      const { source, destination } = read.header;
      this.#remote = source;
      this.#local = { address: destination.address, port: destination.port };
      this.#proxied = true;
    }
    return true;
  }

  /**
   * Runs the TLS handshake (implicit TLS, or after the 220 to STARTTLS). Bytes the client sent before it are
   * handed to TLS, never read as commands: plaintext there makes the handshake fail (CVE-2011-0411 class).
   */
  async upgradeToTls(): Promise<boolean> {
    const contexts = this.runtime.tlsContexts();
    if (!contexts) {
      this.close('no TLS configuration');
      return false;
    }
    await this.flush();
    this.#input.detach();
    const leftover = this.#input.takeAll();
    if (leftover.length > 0) this.#raw.unshift(leftover);
    let secure: TLSSocket;
    try {
      secure = await acceptTls(this.#raw, contexts, {
        timeout: this.runtime.options.limits.handshakeTimeout,
      });
    } catch (error) {
      this.log.info('TLS handshake failed', {
        session: this.id,
        remote: this.#remote.address,
        error: error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error),
      });
      this.close('TLS handshake failed');
      return false;
    }
    this.#socket = secure;
    this.#tls = serverTlsInfo(secure);
    this.#emit({
      type: 'tls',
      version: this.#tls.version,
      cipher: this.#tls.cipher,
      resumed: this.#tls.resumed,
      time: Date.now(),
    });
    this.log.info('tls', {
      session: this.id,
      version: this.#tls.version,
      cipher: this.#tls.cipher,
      servername: this.#tls.servername,
      resumed: this.#tls.resumed,
    });
    this.#input.attach(secure);
    return true;
  }

  // ---- the command loop ----

  async #loop(): Promise<void> {
    while (this.phase.kind !== 'closing') {
      if (this.#stopping && !inTransaction(this.phase)) {
        this.send(Replies.shuttingDown);
        this.close('server shutting down');
        return;
      }
      const read = await this.readLine();
      switch (read.kind) {
        case 'line':
          await this.#dispatch(read.line);
          if (this.#replies.full) await this.flush();
          break;
        case 'too-long':
          this.#line('in', '[line too long, discarded]');
          this.bad(Replies.lineTooLong);
          break;
        case 'timeout':
          this.send(Replies.idleTimeout);
          this.close('timeout');
          break;
        case 'closed':
          this.close('client closed the connection');
          break;
        case 'interrupted':
          break;
      }
    }
  }

  async #dispatch(raw: Buffer): Promise<void> {
    // A NUL or a CR inside a command line is never legitimate; nor is text that is not UTF-8.
    if (raw.includes(0) || raw.includes(0x0d) || !isUtf8(raw)) {
      this.#line('in', raw.toString('latin1'));
      this.bad(Replies.badEncoding);
      return;
    }
    const line = raw.toString('utf8');
    if (this.runtime.options.transcript) this.#line('in', redactCommand(line));
    const parsed = parseCommand(line);
    if (parsed.ok) {
      await dispatchCommand(this, parsed.command);
      return;
    }
    const { problem } = parsed;
    switch (problem.kind) {
      case 'forbidden':
        this.log.warn('non-SMTP request refused', { session: this.id, remote: this.#remote.address });
        this.send(Replies.forbidden);
        this.close('non-SMTP request');
        return;
      case 'unknown':
        this.bad(Replies.unknownCommand);
        return;
      case 'unimplemented':
        this.bad(Replies.notImplemented);
        return;
      case 'syntax':
        this.bad(Replies.syntax(problem.message));
        return;
      case 'parameter':
        this.bad(Replies.badParameter(problem.message));
        return;
    }
  }

  // ---- what handlers use ----

  /** Queues a reply; it is written before the next wait for the client. */
  send(reply: ServerReply): void {
    const text = formatServerReply(reply);
    if (this.runtime.options.transcript) {
      for (const line of text.split('\r\n')) if (line !== '') this.#line('out', line);
    }
    this.#replies.push(text);
  }

  /** Sends an error reply that counts towards maxBadCommands; the limit ends the connection with 421. */
  bad(reply: ServerReply): void {
    this.send(reply);
    this.#badCommands += 1;
    if (this.#badCommands >= this.runtime.options.limits.maxBadCommands) {
      this.send(Replies.tooManyErrors);
      this.close('too many errors');
    }
  }

  /** Ends the session after the queued replies. */
  close(reason: string): void {
    if (this.phase.kind === 'chunking') this.phase.sink.abort('the connection ended');
    if (this.phase.kind !== 'closing') this.phase = { kind: 'closing', reason };
  }

  /** Writes the queued replies; waits while the client does not read them (at most the idle timeout). */
  async flush(): Promise<void> {
    const socket = this.#socket;
    if (!(await this.#replies.flush(socket, this.runtime.options.limits.idleTimeout))) {
      this.close('client does not read replies');
      socket.destroy();
    }
  }

  /** The next command or SASL line, with the server's line limit and timeouts. */
  readLine(): Promise<LineRead> {
    const limits = this.runtime.options.limits;
    return this.#input.readLine(limits.maxLineLength, {
      idle: limits.idleTimeout,
      command: limits.commandTimeout,
    });
  }

  /** The next message bytes (DATA/BDAT), with the data timeout. */
  readChunk(max: number): Promise<ChunkRead> {
    return this.#input.readChunk(max, this.runtime.options.limits.dataTimeout);
  }

  /** Gives back bytes read past the end of the message. */
  unshift(bytes: Buffer): void {
    this.#input.unshift(bytes);
  }

  /** Runs a backend hook (see callHook). */
  hook<T>(name: string, call: () => Awaitable<T>, quiet?: () => boolean): Promise<HookOutcome<T>> {
    return callHook(call, this.log, name, this.id, quiet);
  }

  /** Records the authenticated user. */
  setUser(user: string | undefined): void {
    this.#user = user;
  }

  /** Counts a failed AUTH; true when the limit is reached. */
  countAuthFailure(): boolean {
    this.#authFailures += 1;
    return this.#authFailures >= this.runtime.options.limits.maxAuthFailures;
  }

  /** Counts an accepted message. */
  countMessage(): void {
    this.#messages += 1;
  }

  /** Records a transcript line the handler wrote or read outside send() and dispatch (SASL lines). */
  transcriptLine(direction: 'in' | 'out', line: string): void {
    this.#line(direction, line);
  }

  /** Records message data in the transcript (a byte count, never the content). */
  transcriptData(bytes: number): void {
    this.#emit({ type: 'data', direction: 'in', bytes, time: Date.now(), tls: this.#tls !== undefined });
  }

  // ---- internals ----

  #line(direction: 'in' | 'out', line: string): void {
    if (!this.runtime.options.transcript) return;
    this.#emit({ type: 'line', direction, line, time: Date.now(), tls: this.#tls !== undefined });
  }

  #emit(event: Parameters<NonNullable<ResolvedOptions['transcript']>>[0]): void {
    const listener = this.runtime.options.transcript;
    if (!listener) return;
    try {
      listener(event, { id: this.id, remote: this.#remote.address });
    } catch {
      // a listener's bug must not break the session
    }
  }

  async #finish(): Promise<void> {
    const reason = this.phase.kind === 'closing' ? this.phase.reason : 'ended';
    if (this.phase.kind === 'chunking') this.phase.sink.abort('the connection ended');
    this.phase = { kind: 'closing', reason };
    try {
      await this.flush();
    } catch {
      // the client is gone
    }
    this.#input.detach();
    const socket = this.#socket;
    if (!socket.destroyed) {
      socket.end();
      socket.resume(); // discard whatever still arrives, so the close completes
      const timer = setTimeout(() => {
        socket.destroy();
        this.#raw.destroy();
      }, LINGER_MS);
      timer.unref();
      socket.once('close', () => {
        clearTimeout(timer);
        this.#raw.destroy();
      });
    } else {
      this.#raw.destroy();
    }
    if (this.#holdsSlot) {
      this.#holdsSlot = false;
      this.runtime.counter.release(this.#remote.address);
    }
    this.#emit({ type: 'close', time: Date.now(), reason });
    this.log.info('disconnect', {
      session: this.id,
      remote: this.#remote.address,
      reason,
      messages: this.#messages,
      user: this.#user,
    });
    const backend = this.runtime.options.backend;
    if (backend.onClose) await this.hook('onClose', () => backend.onClose?.(this.session));
    this.#resolveDone();
  }
}

/** AUTH initial responses are secrets: the transcript shows the mechanism only. */
function redactCommand(line: string): string {
  const m = /^(AUTH\s+\S+)\s+\S/i.exec(line);
  return m ? `${m[1]} [redacted]` : line;
}
