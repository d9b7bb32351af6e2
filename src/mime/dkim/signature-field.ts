/**
 * Writes the DKIM-Signature field, folded at 78 columns (RFC 5322 §2.1.1).
 *
 * The field is made in two steps because b= signs the field itself: `prefix` is the field up to and
 * including "b=", which is what gets hashed (RFC 6376 §3.7: the b= value treated as empty); `complete`
 * appends the value. The value only ever goes after "b=", so folding it cannot change the hashed part,
 * and b= is the last tag so verifiers strip it cleanly.
 */

const MAX_LINE = 78;
const NAME = 'DKIM-Signature:';

export interface SignatureTags {
  readonly algorithm: string;
  readonly canonicalization: string;
  readonly domain: string;
  readonly selector: string;
  readonly timestamp: number;
  readonly expires: number | undefined;
  readonly identity: string | undefined;
  /** h= entries, lower case, repeats included. */
  readonly signedNames: readonly string[];
  /** bh= in base64. */
  readonly bodyHash: string;
}

export interface UnsignedField {
  /** "DKIM-Signature: v=1; … b=" without the value and without CRLF. */
  readonly prefix: string;
  /** The whole field with the base64 signature, ending in CRLF. */
  complete(signature: string): string;
}

export function buildSignatureField(tags: SignatureTags): UnsignedField {
  const line = new FoldedLine(NAME);
  line.put('v=1;');
  line.put(`a=${tags.algorithm};`);
  line.put(`c=${tags.canonicalization};`);
  line.put(`d=${tags.domain};`);
  line.put(`s=${tags.selector};`);
  line.put(`t=${tags.timestamp};`);
  if (tags.expires !== undefined) line.put(`x=${tags.expires};`);
  if (tags.identity !== undefined) line.put(`i=${tags.identity};`);
  // h= may fold around each ":" (RFC 6376 §3.5 sig-h-tag).
  const names = tags.signedNames;
  line.putPieces(names.map((name, i) => (i === 0 ? 'h=' : '') + name + (i === names.length - 1 ? ';' : ':')));
  line.put(`bh=${tags.bodyHash};`);
  // Room for "b=" and at least a few characters of the value on the same line.
  line.put('b=', 8);
  const prefix = line.text;
  const column = line.column;
  return {
    prefix,
    complete(signature: string): string {
      // base64 may fold anywhere (RFC 6376 §2.4 base64string allows FWS between characters).
      let out = prefix;
      let rest = signature;
      let room = MAX_LINE - column;
      while (rest.length > room) {
        out += `${rest.slice(0, room)}\r\n `;
        rest = rest.slice(room);
        room = MAX_LINE - 1;
      }
      return `${out}${rest}\r\n`;
    },
  };
}

/** Accumulates a header field, breaking before a token that would pass column 78. */
class FoldedLine {
  text: string;
  column: number;

  constructor(start: string) {
    this.text = start;
    this.column = start.length;
  }

  /** Adds " token", or a fold and the token. `reserve` keeps room after the token on its line. */
  put(token: string, reserve = 0): void {
    if (this.column + 1 + token.length + reserve <= MAX_LINE) {
      this.text += ` ${token}`;
      this.column += 1 + token.length;
    } else {
      this.text += `\r\n ${token}`;
      this.column = 1 + token.length;
    }
  }

  /** Adds pieces that join without a space, folding between them where needed. */
  putPieces(pieces: readonly string[]): void {
    const [first, ...rest] = pieces;
    if (first === undefined) return;
    this.put(first);
    for (const piece of rest) {
      if (this.column + piece.length <= MAX_LINE) {
        this.text += piece;
        this.column += piece.length;
      } else {
        this.text += `\r\n ${piece}`;
        this.column = 1 + piece.length;
      }
    }
  }
}
