/**
 * The result of `compose()`. `stream()` renders a tree that was fixed when the message was composed —
 * header text, Date, Message-ID and boundaries are already strings, sources re-read the same bytes — so
 * every call gives identical bytes. Temp files and handles held for one-shot streams are released by
 * `dispose()`, or when the object is garbage-collected (a stream being read keeps it alive).
 */
import { Readable } from 'node:stream';
import type { ComposedMessage } from './message.js';
import type { ContentSource } from './source.js';

/** Each stream keeps its message (and so the message's sources) alive while the stream is reachable. */
const streamOwners = new WeakMap<Readable, Composed>();

const released = new FinalizationRegistry<readonly ContentSource[]>((owned) => {
  for (const source of owned) source.dispose().catch(() => {});
});

export interface ComposedFields {
  readonly envelope: { readonly from: string; readonly to: string[] };
  readonly messageId: string;
  readonly size: number | undefined;
  readonly needsSmtpUtf8: boolean;
  readonly eightBit: boolean;
}

export class Composed implements ComposedMessage {
  readonly envelope: { readonly from: string; readonly to: string[] };
  readonly messageId: string;
  readonly size: number | undefined;
  readonly needsSmtpUtf8: boolean;
  readonly eightBit: boolean;
  readonly #render: () => AsyncIterable<Buffer>;
  readonly #owned: readonly ContentSource[];

  constructor(fields: ComposedFields, render: () => AsyncIterable<Buffer>, owned: readonly ContentSource[]) {
    this.envelope = { from: fields.envelope.from, to: [...fields.envelope.to] };
    this.messageId = fields.messageId;
    this.size = fields.size;
    this.needsSmtpUtf8 = fields.needsSmtpUtf8;
    this.eightBit = fields.eightBit;
    this.#render = render;
    this.#owned = owned;
    if (owned.length > 0) released.register(this, owned, this);
  }

  stream(): Readable {
    const stream = Readable.from(this.#render(), { objectMode: false, highWaterMark: 64 * 1024 });
    streamOwners.set(stream, this);
    return stream;
  }

  async dispose(): Promise<void> {
    released.unregister(this);
    await Promise.all(this.#owned.map((source) => source.dispose()));
  }
}
