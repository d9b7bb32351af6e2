/**
 * A store that keeps messages in memory: for tests and embedding (the server's default when given no store).
 * Not durable. Bounded: at most `maxMessages` messages and `maxBytes` octets (Received header included) are
 * held, counting messages still arriving, so a test server left running cannot eat all memory.
 *
 * When full it refuses the next message with 452 4.3.1 ("Insufficient system storage", RFC 3463 "mail system
 * full") rather than dropping old ones: a test that got a 250 must find its message, and 452 is temporary, so
 * the client may try again once `clear()` has made room. A message larger than `maxBytes` on its own can never
 * fit and gets 552 5.3.4. A message is refused as soon as it cannot fit, not after buffering it whole.
 */
import type { Readable } from 'node:stream';
import { InputError } from '../../core/errors.js';
import { reject } from '../replies.js';
import type { Envelope, SessionInfo } from '../session.js';
import type { MessageStore, StoredMessage } from './types.js';

export interface MemoryStoreOptions {
  /** Most messages held at once (default 10,000); `Infinity` turns the limit off. */
  readonly maxMessages?: number;
  /** Most octets held at once, Received headers included (default 256 MiB); `Infinity` turns the limit off. */
  readonly maxBytes?: number;
}

export const MEMORY_STORE_DEFAULTS = { maxMessages: 10_000, maxBytes: 256 * 1024 * 1024 } as const;

interface Held {
  readonly info: StoredMessage;
  readonly data: Buffer;
}

function limit(name: keyof MemoryStoreOptions, value: number | undefined): number {
  const chosen = value ?? MEMORY_STORE_DEFAULTS[name];
  if (chosen !== Number.POSITIVE_INFINITY && !(Number.isSafeInteger(chosen) && chosen > 0)) {
    throw new InputError('ECONFIG', `MemoryStore ${name} must be a positive integer or Infinity`);
  }
  return chosen;
}

export class MemoryStore implements MessageStore {
  readonly #messages: Held[] = [];
  readonly #waiters: { count: number; resolve: () => void }[] = [];
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  /** Octets of the messages held. */
  #bytes = 0;
  /** Messages being received, and the octets they have so far: they count against the limits too. */
  #arriving = 0;
  #arrivingBytes = 0;

  /** @example new MemoryStore({ maxMessages: 100 }) // the 101st message gets 452 4.3.1 until clear() */
  constructor(options: MemoryStoreOptions = {}) {
    this.#maxMessages = limit('maxMessages', options.maxMessages);
    this.#maxBytes = limit('maxBytes', options.maxBytes);
  }

  async deliver(message: Readable, envelope: Envelope, _session: SessionInfo): Promise<{ id: string }> {
    if (this.#messages.length + this.#arriving >= this.#maxMessages) {
      message.destroy();
      throw full();
    }
    this.#arriving += 1;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      // Leaving the loop early (by throwing) destroys the stream; the server drops the rest of the message.
      for await (const chunk of message) {
        const bytes = chunk as Buffer;
        if (size + bytes.length > this.#maxBytes) throw tooBig();
        if (this.#bytes + this.#arrivingBytes + bytes.length > this.#maxBytes) throw full();
        size += bytes.length;
        this.#arrivingBytes += bytes.length;
        chunks.push(bytes);
      }
    } finally {
      this.#arriving -= 1;
      this.#arrivingBytes -= size;
    }
    const data = Buffer.concat(chunks, size);
    this.#messages.push({
      info: { id: envelope.id, size: data.length, envelope, receivedAt: new Date() },
      data,
    });
    this.#bytes += data.length;
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

  /** Octets held (the sum of the stored messages' sizes). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Resolves once at least `count` messages are stored. */
  waitFor(count: number): Promise<void> {
    if (this.#messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Forgets every stored message, making room for new ones. */
  clear(): void {
    this.#messages.length = 0;
    this.#bytes = 0;
  }
}

function full() {
  return reject(452, '4.3.1', 'Insufficient system storage');
}

function tooBig() {
  return reject(552, '5.3.4', 'Message too big for system');
}
