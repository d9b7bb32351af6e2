/**
 * Reading from a client, pulled by the connection: command lines (bounded, with idle and command timeouts)
 * or raw chunks (DATA, BDAT, a PROXY header). Bytes are only taken from the socket when the connection asks,
 * and the socket is paused while too much is buffered, so a client that pipelines without end is slowed down
 * by TCP instead of filling memory.
 */
import type { Socket } from 'node:net';
import { type ProxyHeader, parseProxyHeader } from '../net/index.js';

const LF = 0x0a;
const CR = 0x0d;
/** Buffered bytes above which the socket is paused. */
const HIGH_WATER = 64 * 1024;

export type LineRead =
  | { readonly kind: 'line'; readonly line: Buffer }
  /** The line was longer than allowed; it is being discarded up to its line end. */
  | { readonly kind: 'too-long' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'timeout' }
  /** interrupt() was called (server shutdown). */
  | { readonly kind: 'interrupted' };

export type ChunkRead = Buffer | 'closed' | 'timeout';

export interface LineTimeouts {
  /** No byte at all for this long ends the wait. */
  readonly idle: number;
  /** A line whose first byte came this long ago and that is still not complete ends the wait. */
  readonly command: number;
}

export class SocketInput {
  #socket: Socket | undefined;
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bytes at the front already known to hold no LF. */
  #scanned = 0;
  #closed = false;
  #paused = false;
  #interrupted = false;
  /** Dropping bytes of an over-long line up to its LF. */
  #discarding = false;
  /** When the first byte of the line being read arrived. */
  #lineStarted: number | undefined;
  /** Bytes received in total; a wait ends when it grows. */
  #received = 0;
  #wake: (() => void) | undefined;
  /** Called before waiting for the client, so buffered replies go out first. */
  beforeWait: (() => Promise<void>) | undefined;

  readonly #onData = (chunk: Buffer) => {
    if (this.#length === 0) this.#lineStarted ??= Date.now();
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    this.#received += chunk.length;
    if (this.#length > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#socket?.pause();
    }
    this.#notify();
  };

  readonly #onEnd = () => {
    this.#closed = true;
    this.#notify();
  };

  /** Starts reading from `socket` (the TCP socket, or the TLS socket after a handshake). */
  attach(socket: Socket): void {
    this.#socket = socket;
    this.#closed = false;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onEnd);
    this.#paused = false;
    socket.resume();
  }

  /** Stops reading (before TLS takes the socket over). Bytes the socket still held are moved into the buffer. */
  detach(): void {
    const socket = this.#socket;
    if (!socket) return;
    socket.pause();
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onEnd);
    socket.off('error', this.#onEnd);
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    this.#socket = undefined;
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Wakes a waiting read with 'interrupted' (once); used for shutdown. */
  interrupt(): void {
    this.#interrupted = true;
    this.#notify();
  }

  /** Drops everything buffered. */
  discard(): void {
    this.#take(this.#length);
  }

  /** Removes and returns everything buffered. */
  takeAll(): Buffer {
    return this.#take(this.#length);
  }

  /** Puts bytes back at the front (what followed the end of data, or of a PROXY header). */
  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#chunks.unshift(bytes);
    this.#length += bytes.length;
    this.#scanned = 0;
    this.#lineStarted ??= Date.now();
  }

  /**
   * The next line, without its line end (CRLF, or a bare LF, which command lines tolerate). A line longer than
   * `maxLength` gives 'too-long' once and is then skipped up to its end.
   */
  async readLine(maxLength: number, timeouts: LineTimeouts): Promise<LineRead> {
    for (;;) {
      if (this.#interrupted) {
        this.#interrupted = false;
        return { kind: 'interrupted' };
      }
      if (this.#discarding) this.#skipToLineEnd();
      if (!this.#discarding) {
        const lf = this.#findLf();
        if (lf !== -1) {
          const raw = this.#take(lf + 1);
          const end = raw.length >= 2 && raw[raw.length - 2] === CR ? raw.length - 2 : raw.length - 1;
          this.#lineStarted = this.#length > 0 ? Date.now() : undefined;
          if (end > maxLength) return { kind: 'too-long' };
          return { kind: 'line', line: raw.subarray(0, end) };
        }
        if (this.#length > maxLength + 1) {
          this.#discarding = true;
          this.#skipToLineEnd();
          return { kind: 'too-long' };
        }
      }
      if (this.#closed) return { kind: 'closed' };
      const now = Date.now();
      // Each pass follows an arrival of bytes, so the idle deadline counts from now.
      let deadline = now + timeouts.idle;
      if (this.#lineStarted !== undefined && (this.#length > 0 || this.#discarding)) {
        deadline = Math.min(deadline, this.#lineStarted + timeouts.command);
      }
      if (deadline <= now || !(await this.#wait(deadline - now, true))) return { kind: 'timeout' };
    }
  }

  /**
   * The next bytes (up to `max`), waiting at most `timeout` ms without any byte arriving.
   *
   * @example const chunk = await input.readChunk(65536, 180000);
   */
  async readChunk(max: number, timeout: number): Promise<ChunkRead> {
    for (;;) {
      if (this.#length > 0) {
        const first = this.#chunks[0]!;
        return this.#take(Math.min(first.length, max));
      }
      if (this.#closed) return 'closed';
      if (!(await this.#wait(timeout))) return 'timeout';
    }
  }

  /**
   * Resolves true when something happened (bytes, the end, or an interrupt if `interruptible`), false on
   * timeout. Message data is never interrupted: a transaction in progress is allowed to finish.
   */
  async #wait(ms: number, interruptible = false): Promise<boolean> {
    const received = this.#received;
    if (this.beforeWait) await this.beforeWait();
    // Bytes may have arrived while the replies were written; what was buffered before does not count.
    if (this.#received !== received || this.#closed || (interruptible && this.#interrupted)) return true;
    if (this.#paused && this.#socket) {
      this.#paused = false;
      this.#socket.resume();
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve(false);
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The offset of the first LF in the buffer, or -1. */
  #findLf(): number {
    let offset = 0;
    for (const chunk of this.#chunks) {
      if (offset + chunk.length > this.#scanned) {
        const at = chunk.indexOf(LF, Math.max(0, this.#scanned - offset));
        if (at !== -1) return offset + at;
      }
      offset += chunk.length;
    }
    this.#scanned = this.#length;
    return -1;
  }

  #skipToLineEnd(): void {
    const lf = this.#findLf();
    if (lf === -1) {
      this.#take(this.#length);
      return;
    }
    this.#take(lf + 1);
    this.#discarding = false;
    this.#lineStarted = this.#length > 0 ? Date.now() : undefined;
  }

  /** Removes and returns the first `n` bytes (a view when they lie in one chunk). */
  #take(n: number): Buffer {
    if (n <= 0) return Buffer.alloc(0);
    let out: Buffer;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let need = n;
      while (need > 0) {
        const chunk = this.#chunks[0]!;
        if (chunk.length <= need) {
          parts.push(chunk);
          this.#chunks.shift();
          need -= chunk.length;
        } else {
          parts.push(chunk.subarray(0, need));
          this.#chunks[0] = chunk.subarray(need);
          need = 0;
        }
      }
      out = Buffer.concat(parts, n);
    }
    this.#length -= n;
    this.#scanned = Math.max(0, this.#scanned - n);
    if (this.#paused && this.#length < HIGH_WATER / 2 && this.#socket) {
      this.#paused = false;
      this.#socket.resume();
    }
    return out;
  }
}

/**
 * Reads the PROXY protocol header that must open the connection (net/proxy-protocol.ts), giving back to
 * `input` whatever follows it. Resolves with the header, or with why there is none.
 */
export async function readProxyHeader(
  input: SocketInput,
  timeout: number,
): Promise<{ readonly header: ProxyHeader } | { readonly problem: string }> {
  const deadline = Date.now() + timeout;
  let header = Buffer.alloc(0);
  for (;;) {
    const chunk = await input.readChunk(4096, Math.max(1, deadline - Date.now()));
    if (typeof chunk === 'string') return { problem: `no PROXY header (${chunk})` };
    header = Buffer.concat([header, chunk]);
    const parsed = parseProxyHeader(header);
    if (parsed.status === 'incomplete') continue;
    if (parsed.status === 'invalid') return { problem: `bad PROXY header: ${parsed.reason}` };
    input.unshift(header.subarray(parsed.length));
    return { header: parsed.header };
  }
}
