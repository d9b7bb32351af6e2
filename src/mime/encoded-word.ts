/**
 * RFC 2047 encoded words, "=?utf-8?B?...?=" and "=?utf-8?Q?...?=", for non-ASCII text in header fields.
 *
 * The rules that matter: an encoded word is at most 75 characters (§2); each word must decode on its own,
 * so a word never splits the UTF-8 bytes of a character (§5: we cut between code points); in a phrase
 * (a display name) Q leaves only letters, digits and "!*+-/" unencoded (§5(3)). We use that strict set
 * everywhere, so one encoder serves unstructured text and phrases alike.
 */
import { Buffer } from 'node:buffer';

export type WordEncoding = 'B' | 'Q';

/** RFC 2047 §2. */
export const MAX_ENCODED_WORD = 75;
/** "=?utf-8?B?" and "?=". */
const OVERHEAD = 12;
/** The longest a single code point can need: four bytes in Q ("=F0=9F=98=80"). */
export const MIN_ENCODED_WORD = OVERHEAD + 12;

const Q_LITERAL = /^[A-Za-z0-9!*+\-/]$/;

/** One code point, ready for either encoding. */
export interface WordUnit {
  readonly bytes: Buffer;
  readonly q: string;
}

function qOf(ch: string, bytes: Buffer): string {
  if (ch === ' ') return '_';
  if (Q_LITERAL.test(ch)) return ch;
  let out = '';
  for (const byte of bytes) out += `=${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
  return out;
}

/** Splits text into code points with their UTF-8 bytes (a lone surrogate becomes U+FFFD). */
export function wordUnits(text: string): WordUnit[] {
  const units: WordUnit[] = [];
  for (const ch of text) {
    const bytes = Buffer.from(ch, 'utf8');
    units.push({ bytes, q: qOf(ch, bytes) });
  }
  return units;
}

/** B or Q, whichever encodes these units shorter (Q on a tie: it stays readable). */
export function chooseWordEncoding(units: readonly WordUnit[]): WordEncoding {
  let q = 0;
  let bytes = 0;
  for (const unit of units) {
    q += unit.q.length;
    bytes += unit.bytes.length;
  }
  return q <= Math.ceil(bytes / 3) * 4 ? 'Q' : 'B';
}

/**
 * One encoded word of at most `maxLength` characters from `units[start..]`, as many code points as fit.
 * Returns undefined when not even the first code point fits.
 */
export function takeEncodedWord(
  units: readonly WordUnit[],
  start: number,
  maxLength: number,
  encoding: WordEncoding,
): { word: string; next: number } | undefined {
  const limit = Math.min(maxLength, MAX_ENCODED_WORD) - OVERHEAD;
  let end = start;
  if (encoding === 'Q') {
    let used = 0;
    while (end < units.length && used + units[end]!.q.length <= limit) used += units[end++]!.q.length;
    if (end === start) return undefined;
    let payload = '';
    for (let i = start; i < end; i++) payload += units[i]!.q;
    return { word: `=?utf-8?Q?${payload}?=`, next: end };
  }
  const maxBytes = Math.floor(limit / 4) * 3;
  let used = 0;
  while (end < units.length && used + units[end]!.bytes.length <= maxBytes)
    used += units[end++]!.bytes.length;
  if (end === start) return undefined;
  const bytes = Buffer.concat(
    units.slice(start, end).map((unit) => unit.bytes),
    used,
  );
  return { word: `=?utf-8?B?${bytes.toString('base64')}?=`, next: end };
}

/**
 * Text as a list of encoded words, each at most `maxLength` (≤ 75) characters; written one after another
 * with a space between, they decode back to `text` (the spaces between encoded words are not part of it).
 *
 * @example encodeWords('测试报告') // => ['=?utf-8?B?5rWL6K+V5oql5ZGK?=']
 */
export function encodeWords(text: string, maxLength = MAX_ENCODED_WORD, encoding?: WordEncoding): string[] {
  const units = wordUnits(text);
  const chosen = encoding ?? chooseWordEncoding(units);
  const words: string[] = [];
  for (let at = 0; at < units.length; ) {
    const taken = takeEncodedWord(units, at, Math.max(maxLength, MIN_ENCODED_WORD), chosen)!;
    words.push(taken.word);
    at = taken.next;
  }
  return words;
}
