/**
 * Where the bytes of a body or an attachment come from. Every source can be read more than once with the
 * same result, which is what lets `ComposedMessage.stream()` be called again for a retry or a second
 * (signing) pass: Buffers are read as they are, files are opened again (and checked to be unchanged),
 * and one-shot streams are copied aside as they are first read (spill.ts).
 */
import { Buffer } from 'node:buffer';
import type { Stats } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { shown } from './input.js';

/**
 * Read size: 1,536 base64 lines of input (57 bytes each), so encoders never carry bytes between chunks.
 * About 85 KiB: large enough that per-chunk costs vanish, small enough that the encoded text of a chunk
 * stays a young-generation string, so garbage is collected cheaply and memory stays flat.
 */
export const CHUNK_BYTES = 57 * 1536;
/**
 * Files are read a chunk at a time, the next read already running while the current chunk is encoded, so
 * the thread rarely waits on the file system. Larger reads are a little faster (two chunks: about 5%)
 * but leave more memory in use: measured with bench/compose.ts, peak RSS grew with the read size.
 */
export const READ_BYTES = CHUNK_BYTES;

export interface ReadOptions {
  /**
   * The caller is done with each chunk when it asks for the next one or ends the iteration (it copies what
   * it keeps), so the source may read into the same few buffers again instead of allocating one per chunk.
   */
  readonly transient?: boolean;
}

export interface ContentSource {
  /** The byte count when it is known before reading. */
  readonly size: number | undefined;
  /** The bytes, in chunks; every call gives the same bytes. */
  read(options?: ReadOptions): AsyncIterable<Buffer>;
  /** Releases what the source holds (temp files, streams). */
  dispose(): Promise<void>;
}

/**
 * Read buffers given back by transient reads that ended, for the next ones. Reusing them matters for
 * memory: a fresh buffer per read is garbage the moment it is encoded, and it is freed only when the
 * garbage collector gets to it — a young collection, or only a full one if the buffer lived long enough
 * (a whole read) to be promoted. Two are kept: one transient read at a time needs no new buffer.
 */
const spareBuffers: Buffer[] = [];
const SPARE_BUFFERS = 2;

/** A READ_BYTES buffer for a transient read, reused when one is spare. */
export function takeReadBuffer(): Buffer {
  return spareBuffers.pop() ?? Buffer.allocUnsafe(READ_BYTES);
}

/** Hands a buffer from takeReadBuffer() back; the caller must no longer use it or have a read into it. */
export function giveBackReadBuffer(buffer: Buffer): void {
  if (spareBuffers.length < SPARE_BUFFERS) spareBuffers.push(buffer);
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

/**
 * Starts reading the next READ_BYTES (fewer at the end) at `position`, into `buffer` or a new one. Fewer
 * bytes come back only if the file ended early. The read runs while the caller works on the previous
 * chunk; a failure is not counted as unhandled before the caller gets to await it.
 */
function readAhead(
  handle: FileHandle,
  buffer: Buffer | undefined,
  position: number,
  size: number,
): Promise<Buffer> {
  const length = Math.min(READ_BYTES, size - position);
  const read = readFully(handle, buffer ?? Buffer.allocUnsafe(length), length, position);
  read.catch(() => {});
  return read;
}

async function readFully(
  handle: FileHandle,
  buffer: Buffer,
  length: number,
  position: number,
): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
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

  async *read(options: ReadOptions = {}): AsyncIterable<Buffer> {
    const size = this.#stats.size;
    const handle = await this.#openUnchanged();
    // Transient reads alternate between two reused buffers: one with the caller, one being filled.
    const buffers = options.transient ? [takeReadBuffer(), takeReadBuffer()] : undefined;
    let pending = size > 0 ? readAhead(handle, buffers?.[0], 0, size) : undefined;
    try {
      for (let position = 0, index = 1; pending; index++) {
        const chunk = await pending;
        pending = undefined;
        if (chunk.length < Math.min(READ_BYTES, size - position)) {
          throw fileError(
            this.#path,
            this.#what,
            `it ended after ${position + chunk.length} of ${size} bytes`,
          );
        }
        position += chunk.length;
        if (position < size) pending = readAhead(handle, buffers?.[index % 2], position, size);
        yield chunk;
      }
    } finally {
      // A read still running (the caller stopped early) must end before its buffer is reused or the file
      // closed.
      await pending?.catch(() => {});
      if (buffers) for (const buffer of buffers) giveBackReadBuffer(buffer);
      await handle.close();
    }
  }

  /** Opens the file and checks that it is still the one that was measured. */
  async #openUnchanged(): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(this.#path, 'r');
    } catch (err) {
      throw fileError(this.#path, this.#what, err);
    }
    const now = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw fileError(this.#path, this.#what, err);
    });
    if (now.size !== this.#stats.size || now.mtimeMs !== this.#stats.mtimeMs) {
      await handle.close();
      throw new InputError(
        'EINVALID_ARGUMENT',
        `${this.#what} ${shown(this.#path)} changed after the message was composed`,
        { hint: 'compose the message again, or do not modify the file while it is being sent' },
      );
    }
    return handle;
  }

  async dispose(): Promise<void> {}
}
