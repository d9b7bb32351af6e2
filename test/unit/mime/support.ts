// Shared by the mime tests: composing to bytes, splitting the header, and the line-length rules.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { buffer } from 'node:stream/consumers';
import { InputError } from '../../../src/core/errors.js';
import { compose } from '../../../src/mime/index.js';
import type { ComposedMessage, ComposeOptions, Message } from '../../../src/mime/message.js';

export async function bytesOf(composed: ComposedMessage): Promise<Buffer> {
  return buffer(composed.stream());
}

/** Composes and renders; checks on the way that size (when known) and a second rendering agree. */
export async function render(
  message: Message,
  options?: ComposeOptions,
): Promise<{ composed: ComposedMessage; bytes: Buffer; text: string }> {
  const composed = await compose(message, options);
  const bytes = await bytesOf(composed);
  if (composed.size !== undefined) assert.equal(composed.size, bytes.length, 'size matches the bytes');
  const again = await bytesOf(composed);
  assert.ok(bytes.equals(again), 'a second stream() gives identical bytes');
  return { composed, bytes, text: bytes.toString('utf8') };
}

/** The header block (unfolded lines kept as they are), up to the first empty line. */
export function headerBlock(text: string): string {
  const end = text.indexOf('\r\n\r\n');
  return end === -1 ? text : text.slice(0, end + 2);
}

/** The value of the first field `name` in a header block, unfolded. */
export function fieldValue(header: string, name: string): string | undefined {
  const unfolded = header.replace(/\r\n(?=[ \t])/g, '');
  const line = unfolded.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** Every header block of the message (the top one and each part's). */
export function allHeaderBlocks(text: string): string[] {
  const blocks = [headerBlock(text)];
  for (const match of text.matchAll(/\r\n--[^\r\n]+\r\n/g)) {
    const start = match.index + match[0].length;
    const rest = text.slice(start);
    if (/^[\x21-\x39\x3b-\x7e]+:/.test(rest)) blocks.push(headerBlock(rest));
  }
  return blocks;
}

/** Unquoted whitespace after the start of a header line: where a fold could have gone. */
function foldableAt(line: string, continuation: boolean): boolean {
  let quoted = false;
  let i = 0;
  if (continuation) while (line[i] === ' ' || line[i] === '\t') i++;
  else i = line.indexOf(':') + 1;
  // The first token after the name (or after the continuation's whitespace) cannot be folded before.
  while (line[i] === ' ' || line[i] === '\t') i++;
  // Whitespace at the end of a line is no place to fold.
  const end = line.replace(/[ \t]+$/, '').length;
  for (; i < end; i++) {
    const ch = line[i];
    if (ch === '\\' && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if ((ch === ' ' || ch === '\t') && !quoted) return true;
  }
  return false;
}

/**
 * RFC 5322 §2.1.1 on a whole message: CRLF line ends only, no line over 998 octets, header lines over 78
 * characters only where there was nowhere to fold, and RFC 2047 encoded words of at most 75 characters.
 */
export function assertWellFormed(bytes: Buffer): void {
  const text = bytes.toString('latin1');
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), 'only CRLF line ends');
  assert.ok(text.endsWith('\r\n'), 'ends with CRLF');
  for (const line of text.split('\r\n')) assert.ok(line.length <= 998, `line of ${line.length} octets`);
  for (const block of allHeaderBlocks(bytes.toString('utf8'))) {
    const lines = block.split('\r\n').filter((l) => l !== '');
    lines.forEach((line, i) => {
      const continuation = i > 0 && (line.startsWith(' ') || line.startsWith('\t'));
      if (Buffer.byteLength(line) > 78) {
        assert.ok(!foldableAt(line, continuation), `header line could have been folded: ${line}`);
      }
    });
    for (const word of block.matchAll(/=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=/g)) {
      assert.ok(word[0].length <= 75, `encoded word of ${word[0].length} characters: ${word[0]}`);
    }
  }
}

/** Asserts that `fn` throws (or rejects with) an InputError with `code`. */
export async function rejectsWith(fn: () => unknown, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      if (pattern) assert.match(e.message, pattern);
      return true;
    },
  );
}

/** A minimal quoted-printable decoder for checking the encoder (RFC 2045 §6.7). */
export function decodeQuotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  const soft = text.replace(/=\r\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=') {
      bytes.push(Number.parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(soft.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

export const BASE = { from: 'Ann <ann@example.com>', to: 'bob@example.org' } as const;
