/**
 * Replies waiting to be written. They go out in one write when the connection is about to wait for the
 * client (or when many have piled up), so a pipelined group of commands gets its replies in one packet, in
 * order (RFC 2920 §3.2). A client that stops reading its replies is waited for, but not forever.
 */
import type { Socket } from 'node:net';

/** Queued replies beyond this many octets are written without waiting for the client to pause. */
const FLUSH_BYTES = 16 * 1024;

export class ReplyQueue {
  #parts: string[] = [];
  #bytes = 0;

  push(text: string): void {
    this.#parts.push(text);
    this.#bytes += text.length;
  }

  /** Enough is queued that it should be written even though the client is still sending. */
  get full(): boolean {
    return this.#bytes > FLUSH_BYTES;
  }

  /**
   * Writes what is queued to `socket`. Resolves false when the client did not take it within `timeout` ms
   * (the caller should then drop the connection), true otherwise.
   */
  async flush(socket: Socket, timeout: number): Promise<boolean> {
    if (this.#parts.length === 0) return true;
    const text = this.#parts.join('');
    this.#parts = [];
    this.#bytes = 0;
    if (socket.destroyed || !socket.writable) return true;
    if (socket.write(text)) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(true);
      const timer = setTimeout(() => done(false), timeout);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }
}
