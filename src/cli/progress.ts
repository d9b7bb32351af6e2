/**
 * A one-line progress bar on stderr for large messages: bytes handed to the connection so far, of the total,
 * and the rate. Drawn only on a terminal, at most ten times a second, and erased when the send ends.
 */
import type { OutStream, Style } from './output.js';
import { formatBytes } from './transcript.js';

export class ProgressBar {
  readonly #stream: OutStream;
  readonly #style: Style;
  readonly #total: number;
  readonly #started = Date.now();
  #done = 0;
  #lastDraw = 0;
  #drawn = false;

  constructor(stream: OutStream, style: Style, total: number) {
    this.#stream = stream;
    this.#style = style;
    this.#total = Math.max(total, 1);
  }

  /** Adds `bytes` and redraws when enough time has passed. */
  advance(bytes: number): void {
    this.#done += bytes;
    const now = Date.now();
    if (now - this.#lastDraw >= 100 || this.#done >= this.#total) {
      this.#lastDraw = now;
      this.#draw(now);
    }
  }

  /** Erases the bar, leaving the cursor at the start of an empty line. */
  finish(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }

  #draw(now: number): void {
    const fraction = Math.min(1, this.#done / this.#total);
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const rate = `${formatBytes(Math.round(this.#done / seconds))}/s`;
    const figures = `${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(this.#done)} of ${formatBytes(this.#total)}  ${rate}`;
    const columns = this.#stream.columns ?? 80;
    const width = Math.max(10, Math.min(40, columns - figures.length - 12));
    const filled = Math.round(fraction * width);
    const bar = this.#style.green('█'.repeat(filled)) + this.#style.dim('░'.repeat(width - filled));
    this.#stream.write(`\r\x1b[2Ksending ${bar} ${figures}`);
    this.#drawn = true;
  }
}

/** Passes chunks through unchanged, reporting each one's size: how the bar learns what the connection took. */
export async function* counted(
  source: AsyncIterable<Uint8Array | string>,
  onChunk: (bytes: number) => void,
): AsyncGenerator<Uint8Array | string> {
  for await (const chunk of source) {
    onChunk(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    yield chunk;
  }
}
