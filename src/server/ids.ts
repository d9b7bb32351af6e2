/**
 * Queue and session ids: random, short, and made of characters every client's "queued as" parser accepts.
 */
import { randomFillSync } from 'node:crypto';

// Crockford's base32 alphabet: no I, L, O, U, so ids read aloud or copied by hand stay unambiguous.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
// Random bytes are drawn in blocks: one system call per 4 KiB instead of one per id.
const POOL = Buffer.alloc(4096);
let offset = POOL.length;

/**
 * A random id of `length` characters (5 bits each, at most 64).
 *
 * @example newId() // => '7XQ3K2M9ZB4D'
 */
export function newId(length = 12): string {
  if (offset + length > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(POOL[offset + i] ?? 0) & 31];
  offset += length;
  return out;
}
