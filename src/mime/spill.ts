/**
 * A one-shot stream made readable again: the first read starts copying it aside — into memory while it is
 * small, then into an anonymous temp file — and every reader (the first included) reads from that copy,
 * following it as it grows. So a retry or a second signing pass gets the same bytes, memory stays bounded
 * whatever the size, and a reader that stops early does not stop the copy (a later reader needs it whole).
 *
 * The temp file is unlinked right after it is created (POSIX), so nothing is left behind even if the
 * process dies; where that fails (Windows) it is removed on dispose() or at exit.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { describeType } from './input.js';
import {
  type ContentSource,
  giveBackReadBuffer,
  READ_BYTES,
  type ReadOptions,
  takeReadBuffer,
} from './source.js';

/** Streams up to this size stay in memory. */
export const SPILL_MEMORY_LIMIT = 1024 * 1024;

const leftovers = new Set<string>();
let exitHookInstalled = false;

function removeAtExit(path: string): void {
  leftovers.add(path);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const left of leftovers) {
      try {
        unlinkSync(left);
      } catch {
        // already gone
      }
    }
  });
}

async function createTempFile(): Promise<{ handle: FileHandle; path: string | undefined }> {
  const path = join(tmpdir(), `postern-spill-${randomBytes(12).toString('hex')}`);
  const handle = await open(path, 'wx+', 0o600);
  try {
    await unlink(path);
    return { handle, path: undefined };
  } catch {
    removeAtExit(path);
    return { handle, path };
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new InputError('EINVALID_ARGUMENT', `a content stream gave ${describeType(chunk)}, not bytes`);
}

export class SpillSource implements ContentSource {
  readonly size = undefined;
  readonly #input: AsyncIterable<unknown>;
  #pump: Promise<void> | undefined;
  #chunks: Buffer[] = [];
  #file: FileHandle | undefined;
  #path: string | undefined;
  /** Bytes copied so far: readable from #chunks, or from #file once it exists. */
  #length = 0;
  #done = false;
  #failed = false;
  #error: unknown;
  #disposed = false;
  readonly #waiting = new Set<() => void>();

  constructor(input: AsyncIterable<unknown>) {
    this.#input = input;
  }

  /** Starts the copy (if not started) and resolves when it is complete. */
  async drain(): Promise<void> {
    this.#start();
    await this.#pump;
    if (this.#failed) throw this.#error;
  }

  async *read(options: ReadOptions = {}): AsyncIterable<Buffer> {
    this.#start();
    // Transient reads from the temp file reuse one buffer (no read is left running when this ends).
    const buffer = options.transient ? takeReadBuffer() : undefined;
    try {
      let position = 0;
      for (;;) {
        if (this.#failed) throw this.#error;
        if (position < this.#length) {
          const piece = await this.#readAt(position, buffer);
          position += piece.length;
          yield piece;
        } else if (this.#done) {
          return;
        } else {
          await new Promise<void>((resolve) => this.#waiting.add(resolve));
        }
      }
    } finally {
      if (buffer) giveBackReadBuffer(buffer);
    }
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    const input = this.#input as { destroy?: () => void };
    // A stream we never started reading is the caller's, still; one we were copying is ours to stop.
    if (this.#pump && !this.#done) input.destroy?.();
    // An unfinished copy then fails on its next chunk or write; close() waits for a write in progress.
    await this.#file?.close();
    this.#file = undefined;
    this.#chunks = [];
    if (this.#path) {
      leftovers.delete(this.#path);
      await unlink(this.#path).catch(() => {});
    }
  }

  async #readAt(position: number, into: Buffer | undefined): Promise<Buffer> {
    if (this.#file) {
      const want = Math.min(READ_BYTES, this.#length - position);
      const buffer = into ?? Buffer.allocUnsafe(want);
      const { bytesRead } = await this.#file.read(buffer, 0, want, position);
      if (bytesRead === 0) throw new Error('the spill file ended early');
      return buffer.subarray(0, bytesRead);
    }
    let offset = 0;
    for (const chunk of this.#chunks) {
      if (position < offset + chunk.length) return chunk.subarray(position - offset);
      offset += chunk.length;
    }
    throw new Error('the spilled stream lost bytes');
  }

  #start(): void {
    if (this.#disposed) {
      throw new InputError('EINVALID_ARGUMENT', 'the composed message was disposed', {
        hint: 'compose the message again',
      });
    }
    this.#pump ??= this.#copy().then(
      () => this.#wake(),
      (err: unknown) => {
        this.#failed = true;
        this.#error = err;
        this.#wake();
      },
    );
  }

  #wake(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const resolve of waiting) resolve();
  }

  async #copy(): Promise<void> {
    for await (const raw of this.#input) {
      if (this.#disposed) return;
      const chunk = toBuffer(raw);
      if (!this.#file && this.#length + chunk.length > SPILL_MEMORY_LIMIT) await this.#moveToFile();
      if (this.#disposed) return;
      if (this.#file) await writeAll(this.#file, chunk, this.#length);
      else this.#chunks.push(Buffer.from(chunk));
      this.#length += chunk.length;
      this.#wake();
    }
    this.#done = true;
  }

  async #moveToFile(): Promise<void> {
    const { handle, path } = await createTempFile();
    this.#path = path;
    let position = 0;
    for (const chunk of this.#chunks) {
      await writeAll(handle, chunk, position);
      position += chunk.length;
    }
    if (this.#disposed) {
      await handle.close();
      return;
    }
    // Readers switch to the file only now, when it holds everything they may ask for.
    this.#file = handle;
    this.#chunks = [];
  }
}
