/**
 * The value of the DSN ORCPT parameter: "addr-type;encoded-address" (RFC 3461 §4.2), with the
 * "utf-8" address type of RFC 6533 §3 for addresses that are not ASCII.
 */

import { hasNonAscii } from './domain.js';
import { encodeXtext } from './xtext.js';

// QCHAR of RFC 6533: printable ASCII except "+", "=" and "\", which would be ambiguous in xtext.
const QCHAR = /^[\x21-\x2a\x2c-\x3c\x3e-\x5b\x5d-\x7e]$/;

/** "\x{HEXPOINT}": uppercase hex, two digits at least, no other leading zeros (RFC 6533 §3). */
function embedded(codePoint: number): string {
  return `\\x{${codePoint.toString(16).toUpperCase().padStart(2, '0')}}`;
}

/**
 * Formats an original recipient for ORCPT. ASCII addresses use "rfc822;" with xtext; others use
 * "utf-8;" — as utf-8-addr-unitext (UTF-8 kept) when the transaction uses SMTPUTF8, otherwise as the
 * 7-bit utf-8-addr-xtext where every non-ASCII character becomes "\x{HEX}".
 *
 * @example formatOrcpt('jörg@example.com', false) // => 'utf-8;j\\x{F6}rg@example.com'
 */
export function formatOrcpt(address: string, smtpUtf8: boolean): string {
  if (!hasNonAscii(address)) return `rfc822;${encodeXtext(address)}`;
  let out = '';
  for (const ch of address) {
    const codePoint = ch.codePointAt(0) ?? 0;
    out += QCHAR.test(ch) || (smtpUtf8 && codePoint > 0x9f) ? ch : embedded(codePoint);
  }
  return `utf-8;${out}`;
}
