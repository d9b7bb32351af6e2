/**
 * Header fields (RFC 5322 §2.2): "Name: value", folded before whitespace so lines stay within 78 characters
 * where there is whitespace to fold at, and never longer than 998 octets (§2.1.1).
 *
 * A field is written as pieces: atomic text with the whitespace before it, which is where a fold may go.
 * Folding only inserts CRLF before existing whitespace, so unfolding gives back exactly what was written.
 * Structured fields (addresses, parameters, ids) build their pieces so that a fold never lands inside an
 * address or a token; unstructured fields (Subject, custom fields) fold between words.
 */
import { InputError } from '../core/errors.js';
import { chooseWordEncoding, MIN_ENCODED_WORD, takeEncodedWord, wordUnits } from './encoded-word.js';
import { assertOneLine, hasNonAscii, invalidArgument, octets, shown } from './input.js';

/** RFC 5322 §2.1.1: lines SHOULD be at most 78 characters... */
export const FOLD_WIDTH = 78;
/** ...and MUST be at most 998 octets, without the CRLF. */
export const MAX_LINE_OCTETS = 998;
/** A word longer than this cannot be trusted to fit a line; it is encoded (and so split) instead. */
export const MAX_RAW_WORD = 900;
/** Longer runs of whitespace in unstructured text go inside an encoded word, so no line fills with them. */
const MAX_RAW_SPACE = 16;
/** RFC 5322 §3.6.8 sets no limit; this one keeps "Name:" on the first line with room to spare. */
const MAX_NAME_LENGTH = 76;

export interface HeaderContext {
  /** UTF-8 may go raw in header text (RFC 6532); otherwise non-ASCII text is encoded (RFC 2047). */
  readonly smtpUtf8: boolean;
}

/** ftext (RFC 5322 §3.6.8): printable US-ASCII except ":". */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** Throws unless `name` is a valid header field name. */
export function checkFieldName(name: string): void {
  assertOneLine(name, 'the header name');
  if (!FIELD_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    throw invalidArgument(
      `${shown(name)} is not a valid header field name`,
      `use 1–${MAX_NAME_LENGTH} printable ASCII characters without ":" or spaces, e.g. X-Campaign-Id`,
    );
  }
}

/** Builds one folded header field. */
export class FieldWriter {
  readonly #lines: string[] = [];
  #line: string;
  #width: number;
  #started = false;

  constructor(name: string) {
    this.#line = `${name}:`;
    this.#width = this.#line.length;
  }

  /**
   * Appends `text`, which is never broken, after the whitespace `ws` (may be empty). When the line would
   * pass 78 characters the field is folded before `ws`; never straight after the name.
   */
  add(ws: string, text: string): void {
    const width = octets(ws) + octets(text);
    if (this.#started && ws !== '' && this.#width + width > FOLD_WIDTH) {
      // Fold before the last whitespace character of the run: readers that unfold "CRLF WSP..." to a
      // single space (mailparser) then still get the whole run.
      this.#lines.push(this.#line + ws.slice(0, -1));
      this.#line = ws.slice(-1) + text;
      this.#width = 1 + octets(text);
    } else {
      this.#line += ws + text;
      this.#width += width;
    }
    this.#started = true;
  }

  /**
   * Appends `text` as RFC 2047 encoded words sized to fill the lines: the first after `ws`, the others after
   * one space (which decoders drop between encoded words). `suffix` (e.g. ",") goes after the last word.
   * With `whole`, text that fits one encoded word is never split: some readers (Python's email before
   * gh-128110) put a space between adjacent encoded words of a display name.
   */
  addEncoded(ws: string, text: string, suffix = '', whole = false): void {
    const units = wordUnits(text);
    const encoding = chooseWordEncoding(units);
    if (whole) {
      const single = takeEncodedWord(units, 0, FOLD_WIDTH - 1 - suffix.length, encoding);
      if (single?.next === units.length) {
        this.add(ws, single.word + suffix);
        return;
      }
    }
    for (let at = 0; at < units.length; ) {
      const lead = at === 0 ? ws : ' ';
      const room = FOLD_WIDTH - this.#width - octets(lead) - suffix.length;
      // When less than a useful word fits here, take a full one: add() then folds before it.
      const taken =
        (room >= MIN_ENCODED_WORD ? takeEncodedWord(units, at, room, encoding) : undefined) ??
        takeEncodedWord(units, at, FOLD_WIDTH - 1 - suffix.length, encoding)!;
      at = taken.next;
      this.add(lead, at === units.length ? taken.word + suffix : taken.word);
    }
  }

  /** The field with CRLF after every line. */
  toString(): string {
    const lines = [...this.#lines, this.#line];
    for (const line of lines) {
      if (octets(line) > MAX_LINE_OCTETS) {
        throw invalidArgument(
          `the header field ${shown(this.#name(lines))} has a line longer than ${MAX_LINE_OCTETS} octets`,
          'shorten the value',
        );
      }
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  #name(lines: readonly string[]): string {
    const first = lines[0] ?? '';
    return first.slice(0, first.indexOf(':'));
  }
}

/** Whether a word of unstructured text can be written as it is. */
function isRawWord(word: string, context: HeaderContext): boolean {
  // Text that looks like an encoded word would be decoded by the reader: encode it, so it shows as written.
  if (word.includes('=?')) return false;
  if (word.length > MAX_RAW_WORD || octets(word) > MAX_RAW_WORD) return false;
  return context.smtpUtf8 ? !/[\x00-\x1f\x7f-\x9f]/.test(word) : /^[\x21-\x7e]+$/.test(word);
}

const WORD = /([ \t]*)([^ \t]+)/g;

/**
 * Adds unstructured text (RFC 5322 §3.2.5) to a field: words that cannot go raw are encoded, a run of them
 * together with the whitespace between them (decoders drop whitespace between adjacent encoded words).
 * Leading and trailing whitespace is dropped, as readers do; inner whitespace is kept exactly.
 */
export function addUnstructured(field: FieldWriter, value: string, context: HeaderContext): void {
  const words = [...value.matchAll(WORD)].map((m, i) => ({
    ws: i === 0 ? ' ' : m[1]!,
    word: m[2]!,
    raw: isRawWord(m[2]!, context) && m[1]!.length <= MAX_RAW_SPACE,
  }));
  for (let i = 0; i < words.length; ) {
    const first = words[i]!;
    if (first.raw) {
      field.add(first.ws, first.word);
      i++;
      continue;
    }
    // Whitespace before the run stays raw (readers show it), all but one character of a long run aside.
    const ws = first.ws.slice(0, first.ws.length > MAX_RAW_SPACE ? 1 : undefined);
    let run = first.ws.slice(ws.length) + first.word;
    let j = i + 1;
    for (; j < words.length && !words[j]!.raw; j++) run += words[j]!.ws + words[j]!.word;
    field.addEncoded(ws, run);
    i = j;
  }
}

/**
 * An unstructured header field, folded and encoded.
 *
 * @example unstructuredField('Subject', '测试 report', { smtpUtf8: false }) // => 'Subject: =?utf-8?B?5rWL6K+V?= report\r\n'
 */
export function unstructuredField(name: string, value: string, context: HeaderContext): string {
  assertOneLine(value, `the ${name} header`);
  const field = new FieldWriter(name);
  addUnstructured(field, value, context);
  return field.toString();
}

/**
 * A field whose value the caller prepared: written as it is, only folded at its own whitespace. It must
 * be printable ASCII (or UTF-8 under SMTPUTF8) and one line.
 */
export function preparedField(name: string, value: string, context: HeaderContext): string {
  assertOneLine(value, `the ${name} header`);
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
    throw invalidArgument(`the prepared ${name} header ${shown(value)} contains control characters`);
  }
  if (!context.smtpUtf8 && hasNonAscii(value)) {
    throw new InputError(
      'ESMTPUTF8_REQUIRED',
      `the prepared ${name} header ${shown(value)} is not ASCII, which needs SMTPUTF8 (RFC 6532)`,
      { hint: 'pass the value unprepared so that it is encoded, or send through a server with SMTPUTF8' },
    );
  }
  const field = new FieldWriter(name);
  const words = [...value.matchAll(WORD)];
  words.forEach((m, i) => {
    field.add(i === 0 ? ' ' : m[1]!, m[2]!);
  });
  return field.toString();
}
