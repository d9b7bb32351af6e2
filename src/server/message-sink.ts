/**
 * The message stream handed to the backend (onData or the store), fed by the connection as DATA or BDAT bytes
 * arrive. Backpressure is end to end: when the backend reads slowly, `write` waits, the connection stops
 * reading, and TCP slows the client down. Nothing holds the whole message.
 */
import { Readable } from 'node:stream';
import { Replies, type ServerReply } from './replies.js';

/** How delivery ended: accepted (with the id to report) or refused with a reply. */
export type DeliveryOutcome =
  | { readonly ok: true; readonly id: string }
  | { readonly ok: false; readonly reply: ServerReply };

/** Starts delivery of `stream`; must never reject (errors become a refusing outcome). */
export type Deliver = (stream: Readable) => Promise<DeliveryOutcome>;

export class MessageSink {
  readonly stream: Readable;
  #outcome: Promise<DeliveryOutcome> | undefined;
  #settled = false;
  #aborted = false;
  #wake: (() => void) | undefined;
  /** Message octets written (the Received header not counted). */
  bytes = 0;

  constructor(header?: Buffer) {
    this.stream = new Readable({
      highWaterMark: 64 * 1024,
      read: () => this.#notify(),
    });
    // A backend that ignores the stream must not crash the process when it is aborted.
    this.stream.on('error', () => {});
    this.stream.on('close', () => this.#notify());
    if (header) this.stream.push(header);
  }

  /** Hands the stream to the backend. */
  start(deliver: Deliver): void {
    this.#outcome = deliver(this.stream).finally(() => {
      this.#settled = true;
      this.#notify();
    });
  }

  /** Whether the server aborted the message (the backend's failure is then expected, not an error). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Whether the backend is done (answered early, or the stream is gone): further bytes are dropped. */
  get gone(): boolean {
    return this.#settled || this.stream.destroyed;
  }

  /**
   * Passes message bytes on; resolves when the backend can take more. 'timeout' when it read nothing for
   * `timeout` ms.
   */
  async write(chunk: Buffer, timeout: number): Promise<'ok' | 'timeout'> {
    this.bytes += chunk.length;
    if (this.gone) return 'ok';
    if (this.stream.push(chunk)) return 'ok';
    while (!this.gone && this.stream.readableLength >= this.stream.readableHighWaterMark) {
      const moved = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeout);
        this.#wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!moved) return 'timeout';
    }
    return 'ok';
  }

  /** The message is complete. */
  end(): void {
    if (!this.gone) this.stream.push(null);
  }

  /** The message will not be complete (size exceeded, client gone, RSET): the backend's stream errors. */
  abort(reason: string): void {
    this.#aborted = true;
    if (!this.stream.destroyed) this.stream.destroy(new Error(reason));
  }

  /** How delivery ended; a backend that does not answer within `timeout` ms counts as a local error. */
  async outcome(timeout: number): Promise<DeliveryOutcome> {
    const outcome = this.#outcome;
    if (!outcome) return { ok: false, reply: Replies.localError };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DeliveryOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reply: Replies.localError }), timeout);
    });
    try {
      return await Promise.race([outcome, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
