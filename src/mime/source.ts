/**
 * Where the bytes of a body or an attachment come from. Every source can be read more than once with the
 * same result, which is what lets `ComposedMessage.stream()` be called again for a retry or a second
 * (signing) pass: Buffers are read as they are, files are opened again (and checked to be unchanged),
 * and one-shot streams are copied aside as they are first read (spill.ts).
 */
import type { Buffer } from 'node:buffer';
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { shown } from './input.js';

/**
 * Read size: 1,536 base64 lines of input (57 bytes each), so encoders never carry bytes between chunks.
 * About 85 KiB: large enough that per-chunk costs vanish, small enough that the encoded text of a chunk
 * stays a young-generation string, so garbage is collected cheaply and memory stays flat.
 */
export const CHUNK_BYTES = 57 * 1536;
/**
 * Files are read four chunks (342 KiB) at a time: one read per chunk leaves the thread waiting on the file
 * system much of the time, and larger reads only add memory. The encoder still works a chunk at a time.
 */
export const READ_BYTES = CHUNK_BYTES * 4;

export interface ContentSource {
  /** The byte count when it is known before reading. */
  readonly size: number | undefined;
  /** The bytes, in chunks; every call gives the same bytes. */
  read(): AsyncIterable<Buffer>;
  /** Releases what the source holds (temp files, streams). */
  dispose(): Promise<void>;
}

/** Bytes in memory, handed out in chunks of CHUNK_BYTES so no encoder works on more at a time. */
export class BufferSource implements ContentSource {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  get size(): number {
    return this.#bytes.length;
  }

  async *read(): AsyncIterable<Buffer> {
    for (let at = 0; at < this.#bytes.length; at += CHUNK_BYTES) {
      yield this.#bytes.subarray(at, at + CHUNK_BYTES);
    }
  }

  async dispose(): Promise<void> {}
}

function fileError(path: string, what: string, cause: unknown): InputError {
  const code = (cause as NodeJS.ErrnoException).code;
  return new InputError('EINVALID_ARGUMENT', `cannot read ${what} from ${shown(path)}: ${code ?? cause}`, {
    cause,
  });
}

/**
 * A file streamed from disk in large chunks, never read whole. Its size and modification time are taken
 * when the message is composed; a later read fails if either changed, rather than send other bytes than
 * were counted (SIZE) or signed (DKIM).
 */
export class FileSource implements ContentSource {
  readonly #path: string;
  readonly #what: string;
  readonly #stats: Stats;

  private constructor(path: string, what: string, stats: Stats) {
    this.#path = path;
    this.#what = what;
    this.#stats = stats;
  }

  /** Checks that `path` is a readable regular file and takes its size. */
  static async open(path: string, what: string): Promise<FileSource> {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || path.startsWith('data:')) {
      throw new InputError(
        'EINVALID_ARGUMENT',
        `${what} path ${shown(path)} is a URL; URLs are not fetched`,
        {
          hint: 'download it yourself and pass the file path, a Buffer or a stream',
        },
      );
    }
    let stats: Stats;
    try {
      stats = await stat(path);
    } catch (err) {
      throw fileError(path, what, err);
    }
    if (!stats.isFile()) throw fileError(path, what, 'not a regular file');
    return new FileSource(path, what, stats);
  }

  get size(): number {
    return this.#stats.size;
  }

  async *read(): AsyncIterable<Buffer> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.#path, 'r');
    } catch (err) {
      throw fileError(this.#path, this.#what, err);
    }
    try {
      const now = await handle.stat();
      if (now.size !== this.#stats.size || now.mtimeMs !== this.#stats.mtimeMs) {
        throw new InputError(
          'EINVALID_ARGUMENT',
          `${this.#what} ${shown(this.#path)} changed after the message was composed`,
          { hint: 'compose the message again, or do not modify the file while it is being sent' },
        );
      }
      if (this.#stats.size === 0) return;
      let read = 0;
      const stream = handle.createReadStream({
        start: 0,
        end: this.#stats.size - 1,
        highWaterMark: READ_BYTES,
        autoClose: false,
      });
      for await (const chunk of stream) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (read !== this.#stats.size) {
        throw fileError(this.#path, this.#what, `it ended after ${read} of ${this.#stats.size} bytes`);
      }
    } finally {
      await handle.close();
    }
  }

  async dispose(): Promise<void> {}
}
