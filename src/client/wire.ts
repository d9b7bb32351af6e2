import type { Duplex } from 'node:stream';
import {
  ConnectionError,
  type Phase,
  type PosternError,
  ProtocolError,
  TimeoutError,
  type TranscriptListener,
} from '../core/index.js';
import { LineReader, type Reply, ReplyParser } from '../protocol/index.js';

interface Slot {
  readonly resolve: (r: Reply) => void;
  readonly reject: (e: PosternError) => void;
  readonly phase: Phase;
  readonly timeoutMs: number;
  readonly hint: string | undefined;
  readonly onReply: ((r: Reply) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The byte pipe under one SMTP session: writes commands, turns incoming bytes into replies and
 * hands them out in order. It knows nothing of SMTP semantics; the session decides what a reply means.
 * Replies are queued, so pipelined commands can be written in one go and their replies read later.
 */
export class Wire {
  #socket: Duplex;
  #tls: boolean;
  #reader = new LineReader({ maxLineLength: 8192 });
  #parser = new ReplyParser();
  #replies: Reply[] = [];
  /** Readers waiting for replies, in the order their commands were written. */
  #slots: Slot[] = [];
  #failure: PosternError | undefined;
  #closed = false;
  #socketGone = false;
  #listener: TranscriptListener | undefined;
  #onData = (chunk: Buffer) => this.#receive(chunk);
  #onError = (err: Error) => this.#fail(this.#connectionError(err));
  #onClose = () => {
    // A close we asked for (after QUIT) with nothing outstanding needs no error (and no stack trace).
    if (this.#closed && this.#slots.length === 0) {
      this.#socketGone = true;
      return;
    }
    this.#fail(this.#closedError());
  };
  #drainWaiters = new Set<() => void>();
  #onDrain = () => {
    for (const w of this.#drainWaiters) w();
    this.#drainWaiters.clear();
  };
  /** The phase the session is in, so errors from the socket can name it. */
  phase: Phase = 'greeting';
  /** Set by the session: a host:port label for error messages. */
  readonly label: string;

  constructor(
    socket: Duplex,
    options: { tls: boolean; label: string; transcript?: TranscriptListener | undefined },
  ) {
    this.#socket = socket;
    this.#tls = options.tls;
    this.label = options.label;
    this.#listener = options.transcript;
    this.#attach();
  }

  get socket(): Duplex {
    return this.#socket;
  }

  get tls(): boolean {
    return this.#tls;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes raw protocol text; `shown` replaces it in the transcript (AUTH redaction). */
  write(text: string, shown?: string): void {
    this.#throwIfFailed();
    if (this.#listener) {
      const lines = (shown ?? text).split('\r\n');
      if (lines[lines.length - 1] === '') lines.pop();
      const time = Date.now();
      for (const line of lines)
        this.#listener({ type: 'line', direction: 'out', line, time, tls: this.#tls });
    }
    this.#socket.write(text);
  }

  /** Holds writes until uncork(), so pipelined commands and a small message leave as one TLS record. */
  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  /**
   * Writes message bytes. Returns undefined when the socket took them, else a promise that settles once it
   * drained, so a large message never piles up in memory.
   */
  writeData(chunk: Buffer | string): Promise<void> | undefined {
    this.#throwIfFailed();
    if (this.#socket.write(chunk)) return undefined;
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#failWaiters.delete(onFail);
        resolve();
      };
      const onFail = (e: PosternError) => {
        this.#drainWaiters.delete(done);
        reject(e);
      };
      this.#drainWaiters.add(done);
      this.#failWaiters.add(onFail);
    });
  }

  #failWaiters = new Set<(e: PosternError) => void>();

  /** Emits a transcript note for message bytes (their content is never put in the transcript). */
  noteData(bytes: number): void {
    this.#listener?.({ type: 'data', direction: 'out', bytes, time: Date.now(), tls: this.#tls });
  }

  /**
   * Reserves the next reply, waiting at most `timeoutMs` once it is the oldest outstanding one; the timeout
   * error names `phase`. Calls are answered in call order, so pipelined commands reserve their replies right
   * after writing them and several transactions can be in flight on one connection.
   *
   * `onReply` runs synchronously as the reply is parsed, before any promise job: a pipelined transaction
   * uses it to write its message the moment 354 arrives, ahead of the bookkeeping that the same chunk of
   * replies triggers. It must not throw.
   */
  read(phase: Phase, timeoutMs: number, hint?: string, onReply?: (r: Reply) => void): Promise<Reply> {
    if (this.#slots.length === 0) {
      const queued = this.#replies.shift();
      if (queued) {
        onReply?.(queued);
        return Promise.resolve(queued);
      }
    }
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#socketGone) return Promise.reject(this.#closedError());
    const promise = new Promise<Reply>((resolve, reject) => {
      this.#slots.push({ resolve, reject, phase, timeoutMs, hint, onReply, timer: undefined });
    });
    // A reservation whose owner gave up (e.g. after an earlier failure) must not become an unhandled rejection.
    promise.catch(() => undefined);
    this.#armHead();
    return promise;
  }

  /** Replies reserved but not yet received. */
  get outstanding(): number {
    return this.#slots.length;
  }

  #armHead(): void {
    const head = this.#slots[0];
    if (!head || head.timer || head.timeoutMs <= 0) return;
    this.phase = head.phase;
    head.timer = setTimeout(() => {
      const err = new TimeoutError(
        'ETIMEOUT',
        `${this.label} sent no reply within ${head.timeoutMs} ms in the ${head.phase} phase`,
        { phase: head.phase, transient: true, hint: head.hint },
      );
      // A timed-out session cannot be trusted to be in sync any more.
      this.#fail(err);
      this.destroy();
    }, head.timeoutMs);
  }

  /**
   * Bytes or replies received but not yet consumed. After "220 ready to start TLS" this must be zero:
   * anything else was injected in plaintext before the handshake (CVE-2011-0411 class).
   */
  get unreadBytes(): number {
    return this.#reader.pending + this.#replies.length;
  }

  /** Stops reading from the current socket and returns it, for the TLS upgrade. */
  detach(): Duplex {
    this.#detach();
    return this.#socket;
  }

  /** Continues on the upgraded socket; nothing read before the upgrade survives (RFC 3207 §4.2). */
  reattach(socket: Duplex, tls: boolean): void {
    this.#socket = socket;
    this.#tls = tls;
    this.#reader.reset();
    this.#parser = new ReplyParser();
    this.#replies = [];
    this.#attach();
  }

  /** Ends the connection politely (after QUIT) or at once. */
  end(): void {
    this.#closed = true;
    this.#socket.end();
  }

  destroy(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  /** Waits until the socket is fully closed (used after QUIT and in close()). */
  async closedPromise(timeoutMs: number): Promise<void> {
    if (this.#socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#socket.destroy();
        resolve();
      }, timeoutMs);
      t.unref?.();
      this.#socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #attach(): void {
    this.#socket.on('data', this.#onData);
    this.#socket.on('error', this.#onError);
    this.#socket.on('close', this.#onClose);
    this.#socket.on('drain', this.#onDrain);
  }

  #detach(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('error', this.#onError);
    this.#socket.off('close', this.#onClose);
    this.#socket.off('drain', this.#onDrain);
  }

  #receive(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.#reader.push(chunk);
    } catch (err) {
      this.#fail(err as PosternError);
      this.destroy();
      return;
    }
    const time = Date.now();
    for (const line of lines) {
      this.#listener?.({ type: 'line', direction: 'in', line, time, tls: this.#tls });
      let reply: Reply | undefined;
      try {
        reply = this.#parser.push(line);
      } catch (err) {
        this.#fail(err instanceof ProtocolError ? err : new ProtocolError('EPROTOCOL', String(err)));
        this.destroy();
        return;
      }
      if (!reply) continue;
      const slot = this.#slots.shift();
      if (slot) {
        clearTimeout(slot.timer);
        slot.onReply?.(reply);
        slot.resolve(reply);
      } else {
        this.#replies.push(reply);
      }
    }
    // One timer for whichever reply is awaited next, not one per reply answered in this chunk.
    this.#armHead();
  }

  #fail(err: PosternError): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#closed = true;
    for (const slot of this.#slots.splice(0)) {
      clearTimeout(slot.timer);
      slot.reject(err);
    }
    for (const w of this.#failWaiters) w(err);
    this.#failWaiters.clear();
    this.#drainWaiters.clear();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  #closedError(): PosternError {
    return new ConnectionError(
      'ECONNECTION_CLOSED',
      `${this.label} closed the connection unexpectedly in the ${this.phase} phase`,
      { phase: this.phase, transient: true },
    );
  }

  #connectionError(err: Error): PosternError {
    return new ConnectionError(
      'ECONNECTION',
      `connection to ${this.label} failed in the ${this.phase} phase: ${err.message}`,
      { phase: this.phase, transient: true, cause: err },
    );
  }
}
