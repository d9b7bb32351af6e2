/**
 * A store that keeps messages in memory: for tests and embedding. Not durable, and it grows without bound
 * unless `clear()` is called.
 */
import type { Readable } from 'node:stream';
import { InputError } from '../../core/errors.js';
import type { Envelope, SessionInfo } from '../session.js';
import type { MessageStore, StoredMessage } from './types.js';

interface Held {
  readonly info: StoredMessage;
  readonly data: Buffer;
}

export class MemoryStore implements MessageStore {
  readonly #messages: Held[] = [];
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  async deliver(message: Readable, envelope: Envelope, _session: SessionInfo): Promise<{ id: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of message) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    this.#messages.push({
      info: { id: envelope.id, size: data.length, envelope, receivedAt: new Date() },
      data,
    });
    for (const waiter of [...this.#waiters]) {
      if (this.#messages.length >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    return { id: envelope.id };
  }

  async list(): Promise<StoredMessage[]> {
    return this.#messages.map((m) => m.info);
  }

  async read(id: string): Promise<Buffer> {
    const found = this.#messages.find((m) => m.info.id === id);
    if (!found) throw new InputError('EINVALID_ARGUMENT', `no message with id ${JSON.stringify(id)}`);
    return found.data;
  }

  /** The stored messages with their bytes, synchronously (tests). */
  get messages(): readonly { readonly info: StoredMessage; readonly data: Buffer }[] {
    return this.#messages;
  }

  /** Resolves once at least `count` messages are stored. */
  waitFor(count: number): Promise<void> {
    if (this.#messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  clear(): void {
    this.#messages.length = 0;
  }
}
