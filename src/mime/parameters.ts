/**
 * MIME parameters ("; charset=utf-8", "; filename=...") in Content-Type and Content-Disposition.
 *
 * A plain ASCII value is a token or a quoted string (RFC 2045 §5.1). Anything else — non-ASCII, control
 * characters, or a value too long for one line — uses RFC 2231: "filename*=utf-8''%E6%B5%8B", split into
 * numbered continuations ("filename*0*=", "filename*1*=") that each fit a 78-character line, cut between
 * characters so that even a reader that decodes each piece alone gets whole characters.
 *
 * Outlook and older Thunderbird read RFC 2231 poorly but read RFC 2047 encoded words inside a quoted value,
 * which RFC 2047 §5 does not allow but every reader accepts. A `legacy` parameter (the Content-Type
 * "name=") is written that way, next to the RFC 2231 "filename*=" of Content-Disposition.
 */
import { Buffer } from 'node:buffer';
import { encodeWords } from './encoded-word.js';
import { FieldWriter, FOLD_WIDTH, MAX_RAW_WORD } from './header.js';
import { assertOneLine } from './input.js';

export interface Parameter {
  readonly name: string;
  readonly value: string;
  /** Write non-ASCII as RFC 2047 words in quotes (for Content-Type name=), not RFC 2231. */
  readonly legacy?: boolean;
}

// attribute-char (RFC 2231 §7): a token character other than "*", "'" and "%".
const ATTRIBUTE_CHAR = /^[!#$&+\-.0-9A-Z^_`a-z{|}~]$/;
const PRINTABLE = /^[\x20-\x7e]*$/;

// RFC 2045 allows any token unquoted, but readers differ at the edges (Python's takes "'" in a bare value
// as RFC 2231 syntax), so only the plainest values go without quotes.
const BARE = /^[A-Za-z0-9._-]+$/;

function quoted(value: string): string {
  return BARE.test(value) ? value : `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function percentEncoded(ch: string): string {
  if (ATTRIBUTE_CHAR.test(ch)) return ch;
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8'))
    out += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
  return out;
}

/** RFC 2231 pieces: one "name*=utf-8''..." when it fits a line, else numbered continuations. */
function extendedPieces(name: string, value: string, suffix: string): string[] {
  const units = Array.from(value, percentEncoded);
  const whole = `${name}*=utf-8''${units.join('')}${suffix}`;
  if (whole.length + 1 <= FOLD_WIDTH) return [whole];
  const pieces: string[] = [];
  let at = 0;
  while (at < units.length) {
    const head = `${name}*${pieces.length}*=${pieces.length === 0 ? "utf-8''" : ''}`;
    // Room for " head" + segment + ";" (every continuation but the last is followed by more).
    const room = FOLD_WIDTH - 1 - head.length - Math.max(1, suffix.length);
    let segment = units[at++]!;
    while (at < units.length && segment.length + units[at]!.length <= room) segment += units[at++];
    pieces.push(`${head}${segment}${at < units.length ? ';' : suffix}`);
  }
  return pieces;
}

/** RFC 2047 words in a quoted string, each piece fitting a line: name="=?utf-8?B?...?= =?utf-8?B?...?=". */
function legacyPieces(name: string, value: string, suffix: string): string[] {
  const words = encodeWords(value, FOLD_WIDTH - 1 - name.length - 2 - 1 - Math.max(1, suffix.length));
  return words.map((word, i) => {
    const start = i === 0 ? `${name}="` : '';
    const end = i === words.length - 1 ? `"${suffix}` : '';
    return start + word + end;
  });
}

/** The pieces of one parameter, to be written with a space before each (where the field may fold). */
export function parameterPieces(parameter: Parameter, suffix = ''): string[] {
  const { name, value } = parameter;
  assertOneLine(value, `the ${name} parameter`);
  if (PRINTABLE.test(value)) {
    const simple = `${name}=${quoted(value)}${suffix}`;
    if (simple.length + 1 <= FOLD_WIDTH) return [simple];
    if (parameter.legacy && simple.length <= MAX_RAW_WORD) return [simple];
  }
  return parameter.legacy ? legacyPieces(name, value, suffix) : extendedPieces(name, value, suffix);
}

/**
 * Adds "value; a=b; c=d" to a field (Content-Type, Content-Disposition).
 *
 * @example
 * const field = new FieldWriter('Content-Disposition');
 * addValueWithParameters(field, 'attachment', [{ name: 'filename', value: '测试报告.pdf' }]);
 * field.toString() // => "Content-Disposition: attachment;\r\n filename*=utf-8''%E6%B5%8B%E8%AF%95%E6%8A%A5%E5%91%8A.pdf\r\n"
 */
export function addValueWithParameters(
  field: FieldWriter,
  value: string,
  parameters: readonly Parameter[],
): void {
  field.add(' ', parameters.length > 0 ? `${value};` : value);
  parameters.forEach((parameter, i) => {
    for (const piece of parameterPieces(parameter, i < parameters.length - 1 ? ';' : ''))
      field.add(' ', piece);
  });
}

/** A whole "Name: value; params" field. */
export function parameterizedField(name: string, value: string, parameters: readonly Parameter[]): string {
  const field = new FieldWriter(name);
  addValueWithParameters(field, value, parameters);
  return field.toString();
}
