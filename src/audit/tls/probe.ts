/**
 * One scan's connections: each probe opens a connection with openTlsProbe() (which does STARTTLS where
 * needed), writes one hand-built hello, reads the answer and hangs up. A limiter bounds how many are open
 * at once; every connection is counted; failures come back as values, not exceptions, so a scan can note
 * them and go on. Only an abort throws.
 */
import type { Socket } from 'node:net';
import { isPosternError, PosternError } from '../../core/errors.js';
import { isIpLiteral } from '../../tls/index.js';
import { DEFAULT_AUDIT_TIMEOUT, openTlsProbe } from '../connect.js';
import type { AuditTarget } from '../types.js';
import { buildClientHello, buildSslv2ClientHello, type ClientHelloOptions } from './hello.js';
import { readServerReply, readSslv2Reply, type ServerReply, type Sslv2Reply } from './server-hello.js';

/** A probe that got no usable answer: the connection failed, timed out or the reply was malformed. */
export interface ProbeFailure {
  readonly kind: 'error';
  readonly error: PosternError;
}

/** Runs async tasks with at most `max` in flight. */
class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

function asPosternError(err: unknown): PosternError {
  if (isPosternError(err)) return err;
  return new PosternError('ECONNECTION', err instanceof Error ? err.message : String(err), {
    phase: 'tls',
    cause: err,
  });
}

// Codes worth a second try mid-scan: a busy server may refuse or drop one connection among many.
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNECTION', 'ECONNECTION_CLOSED', 'ESTARTTLS_FAILED']);
// The first connection is retried too (a "421 busy", a reset), but not after a refusal or a timeout: nothing
// listening or a filtered port is the usual reason, and trying again would only delay saying so.
const FIRST_NOT_RETRIED = new Set(['ECONNREFUSED', 'ECONNECT_TIMEOUT', 'ETIMEOUT']);
const RETRIES = 2;

function worthRetry(error: PosternError, first: boolean): boolean {
  if (!first) return RETRYABLE.has(error.code) || error.transient;
  if (FIRST_NOT_RETRIED.has(error.code)) return false;
  return error.transient || error.code === 'ECONNECTION' || error.code === 'ECONNECTION_CLOSED';
}

/** The shared state of one scan: target, limiter, connection count, notes. */
export class ProbeSession {
  readonly target: AuditTarget;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number;
  readonly servername: string | undefined;
  readonly #limiter: Limiter;
  readonly #notes = new Set<string>();
  #connections = 0;
  #succeeded = 0;
  /** Set when the very first connection fails (retries included): the target is unreachable, later probes fail fast. */
  #fatal: PosternError | undefined;
  #firstOpen: Promise<void> | undefined;

  constructor(
    target: AuditTarget,
    o: { concurrency?: number | undefined; signal?: AbortSignal | undefined } = {},
  ) {
    this.target = target;
    this.signal = o.signal;
    this.timeout = target.timeout ?? DEFAULT_AUDIT_TIMEOUT;
    this.servername = target.servername ?? (isIpLiteral(target.host) ? undefined : target.host);
    this.#limiter = new Limiter(Math.max(1, o.concurrency ?? 8));
  }

  get connections(): number {
    return this.#connections;
  }

  get notes(): string[] {
    return [...this.#notes];
  }

  /** The error that made the target unreachable, if the scan could not connect at all. */
  get fatal(): PosternError | undefined {
    return this.#fatal;
  }

  note(text: string): void {
    this.#notes.add(text);
  }

  /** Sends a TLS ClientHello and reads the answer (to ServerHelloDone when `until` is 'done'). */
  tls(
    o: Omit<ClientHelloOptions, 'servername'>,
    until: 'hello' | 'done' = 'hello',
  ): Promise<ServerReply | ProbeFailure> {
    const hello = buildClientHello({ ...o, servername: this.servername });
    return this.#exchange(hello, (socket) =>
      readServerReply(socket, { timeout: this.timeout, signal: this.signal, until }),
    );
  }

  /** Sends an SSLv2 CLIENT-HELLO offering `kinds` and reads the answer. */
  sslv2(kinds: readonly number[]): Promise<Sslv2Reply | ProbeFailure> {
    return this.#exchange(buildSslv2ClientHello(kinds), (socket) =>
      readSslv2Reply(socket, { timeout: this.timeout, signal: this.signal }),
    );
  }

  #checkAbort(): void {
    if (this.signal?.aborted) {
      throw new PosternError('EABORTED', 'TLS scan aborted', { phase: 'tls', cause: this.signal.reason });
    }
  }

  async #exchange<T>(hello: Buffer, read: (socket: Socket) => Promise<T>): Promise<T | ProbeFailure> {
    this.#checkAbort();
    return this.#limiter.run(async () => {
      this.#checkAbort();
      if (this.#fatal) return { kind: 'error', error: this.#fatal };
      const opened = await this.#open();
      if ('kind' in opened) return opened;
      const socket = opened;
      try {
        socket.write(hello);
        return await read(socket);
      } catch (err) {
        this.#checkAbort();
        return { kind: 'error', error: asPosternError(err) };
      } finally {
        socket.destroy();
      }
    });
  }

  // The first connection opens alone: if the target cannot be reached at all, one failure says so and the
  // other probes fail fast instead of each waiting for its own refusal or timeout.
  async #open(): Promise<Socket | ProbeFailure> {
    if (this.#succeeded > 0) return this.#connect();
    if (this.#firstOpen) {
      await this.#firstOpen;
      return this.#fatal ? { kind: 'error', error: this.#fatal } : this.#connect();
    }
    const first = this.#connect();
    this.#firstOpen = first.then(
      () => undefined,
      () => undefined,
    );
    return first;
  }

  async #connect(): Promise<Socket | ProbeFailure> {
    for (let attempt = 0; ; attempt++) {
      this.#connections++;
      try {
        const socket = await openTlsProbe(this.target, this.signal);
        // Errors after we hang up (a reset racing our destroy) must not go unhandled.
        socket.on('error', () => {});
        this.#succeeded++;
        return socket;
      } catch (err) {
        this.#checkAbort();
        const error = asPosternError(err);
        if (attempt >= RETRIES || !worthRetry(error, this.#succeeded === 0)) {
          if (this.#succeeded === 0) this.#fatal ??= error;
          else this.note(`a probe connection failed: ${error.message}`);
          return { kind: 'error', error };
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * 4 ** attempt));
      }
    }
  }
}
