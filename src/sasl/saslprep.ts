import { AuthError } from '../core/errors.js';
import {
  inTable,
  L_CAT,
  MAPPED_TO_NOTHING,
  NON_ASCII_SPACE,
  PROHIBITED,
  RAND_AL_CAT,
  UNASSIGNED,
} from './stringprep-tables.js';

export interface SaslprepOptions {
  /**
   * Allow code points unassigned in Unicode 3.2 ("query" strings, RFC 3454 §7). SCRAM prepares usernames as
   * queries (RFC 5802 §5.1) but passwords as stored strings (§2.2), so the default is the stricter `false`.
   */
  readonly allowUnassigned?: boolean;
  /** What the string is ("username", "password"), for the error message; the string itself never appears there. */
  readonly label?: string;
}

/** Printable ASCII is left unchanged by every SASLprep step, so the common case skips the tables. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Prepares a username or password with SASLprep (RFC 4013) so both ends hash the same bytes.
 * Throws AuthError 'EAUTH_PROTOCOL' for prohibited characters, unassigned code points (unless allowed) and
 * strings that break the bidi rule; the message names only `label`, never the offending text.
 *
 * NFKC comes from the runtime's Unicode, not 3.2; Unicode's normalization stability policy makes the two agree for
 * every assigned 3.2 character apart from a handful of CJK compatibility ideographs corrected in Unicode 4.0.
 *
 * @example saslprep('I\u00ADX') === 'IX'; saslprep('\u2168') === 'IX'
 */
export function saslprep(input: string, options: SaslprepOptions = {}): string {
  if (PRINTABLE_ASCII.test(input)) return input;
  const label = options.label ?? 'string';

  if (!options.allowUnassigned && codePoints(input).some((cp) => inTable(UNASSIGNED, cp))) {
    throw rejected(label, 'a code point that is unassigned in Unicode 3.2 (RFC 4013 §2.5)');
  }

  // §2.1 Mapping: B.1 to nothing, non-ASCII spaces to SPACE.
  let mapped = '';
  for (const char of input) {
    const cp = char.codePointAt(0)!;
    if (inTable(MAPPED_TO_NOTHING, cp)) continue;
    mapped += inTable(NON_ASCII_SPACE, cp) ? ' ' : char;
  }

  // §2.2 Normalization: form KC.
  const output = mapped.normalize('NFKC');
  const points = codePoints(output);

  // §2.3 Prohibited output.
  if (points.some((cp) => inTable(PROHIBITED, cp))) {
    throw rejected(label, 'a character that SASLprep prohibits, such as a control or private-use character');
  }

  // §2.4 Bidirectional characters, by RFC 3454 §6: right-to-left text must not mix with left-to-right
  // text and must begin and end with a right-to-left character, so it cannot be displayed ambiguously.
  if (points.some((cp) => inTable(RAND_AL_CAT, cp))) {
    const first = points[0]!;
    const last = points[points.length - 1]!;
    if (
      points.some((cp) => inTable(L_CAT, cp)) ||
      !inTable(RAND_AL_CAT, first) ||
      !inTable(RAND_AL_CAT, last)
    ) {
      throw rejected(label, 'right-to-left text arranged in a way SASLprep forbids (RFC 3454 §6)');
    }
  }
  return output;
}

function codePoints(text: string): number[] {
  return Array.from(text, (char) => char.codePointAt(0)!);
}

function rejected(label: string, what: string): AuthError {
  return new AuthError('EAUTH_PROTOCOL', `the ${label} contains ${what}`, {
    hint: `SASLprep (RFC 4013) refuses it, so it cannot be used to authenticate; change the ${label}`,
  });
}
