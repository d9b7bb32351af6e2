/**
 * Mailbox and path syntax of RFC 5321 §4.1.2, with the UTF-8 extension of RFC 6531 §3.3.
 * Validation happens before anything reaches the wire, so a bad address fails with a clear message
 * instead of an obscure 501 from the server.
 */

import { Buffer } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { checkDomain, hasNonAscii } from './domain.js';
import { printable } from './printable.js';

export { domainToAscii } from './domain.js';

export interface MailboxOptions {
  /** The session uses SMTPUTF8 (RFC 6531), so the local part may contain UTF-8. */
  readonly smtpUtf8?: boolean;
}

/** RFC 5321 §4.5.3.1.1. */
const MAX_LOCAL_OCTETS = 64;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets. */
const MAX_MAILBOX_OCTETS = 254;

// atext of RFC 5321 §4.1.2, plus any non-ASCII character except C1 controls, as SMTPUTF8 allows
// (RFC 6531 §3.3). Non-ASCII is accepted here and rejected afterwards without SMTPUTF8, for a clearer error.
const ATOM = /^(?:[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]|[^\x00-\x9f])+$/u;
// qtextSMTP (SP, !, #–[, ]–~) or quoted-pairSMTP (backslash and SP–~), again plus non-ASCII.
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|[^\x00-\x9f]|\\[\x20-\x7e])*"$/u;
const LONE_SURROGATE = /\p{Cs}/u;

function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function invalid(address: string, why: string): InputError {
  const looksDecorated = /[<>\s]/.test(address);
  return new InputError('EADDRESS_INVALID', `${printable(address)} is not a valid mailbox: ${why}`, {
    hint: looksDecorated
      ? 'pass the bare address (user@example.com), without a display name, spaces or angle brackets'
      : undefined,
  });
}

function localPartProblem(local: string): string | undefined {
  if (local === '') return 'the part before "@" is empty';
  if (LONE_SURROGATE.test(local)) return 'it contains a broken UTF-16 character';
  if (local.startsWith('"')) {
    return QUOTED.test(local) ? undefined : 'the quoted local part has a character that needs escaping';
  }
  for (const atom of local.split('.')) {
    if (atom === '') return 'the local part has an empty atom (a dot at the start or end, or two dots)';
    if (!ATOM.test(atom)) return `the local part has a character not allowed unquoted in ${printable(atom)}`;
  }
  return undefined;
}

interface ParsedMailbox {
  readonly local: string;
  readonly domain: string;
}

/**
 * Mailboxes checked lately, per mode: an application sends from the same few addresses again and again,
 * and checking one (IDNA, character classes, lengths) costs more than the rest of its MAIL command.
 * Only valid results are kept; the maps are emptied when they reach MEMO_LIMIT entries.
 */
const MEMO_LIMIT = 1024;
const checkedAscii = new Map<string, ParsedMailbox>();
const checkedUtf8 = new Map<string, ParsedMailbox>();

/** A checked mailbox split at its "@"; `domain` is the A-label form for length checks and the wire. */
function parseMailbox(address: string, options: MailboxOptions): ParsedMailbox {
  const memo = options.smtpUtf8 ? checkedUtf8 : checkedAscii;
  const known = memo.get(address);
  if (known) return known;
  const parsed = checkMailbox(address, options);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(address, parsed);
  return parsed;
}

function checkMailbox(address: string, options: MailboxOptions): ParsedMailbox {
  const at = address.lastIndexOf('@');
  if (at === -1) throw invalid(address, 'it has no "@"');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const localProblem = localPartProblem(local);
  if (localProblem) throw invalid(address, localProblem);
  if (octets(local) > MAX_LOCAL_OCTETS) {
    throw invalid(address, `the local part is longer than ${MAX_LOCAL_OCTETS} octets`);
  }
  const checked = checkDomain(domain);
  if ('problem' in checked)
    throw invalid(address, `the domain ${printable(domain)} is not valid: ${checked.problem}`);
  const ascii = checked.ascii;
  const wire = options.smtpUtf8 ? address : `${local}@${ascii}`;
  if (octets(wire) > MAX_MAILBOX_OCTETS) {
    throw invalid(address, `it is longer than ${MAX_MAILBOX_OCTETS} octets`);
  }
  if (!options.smtpUtf8 && hasNonAscii(local)) {
    throw new InputError(
      'ESMTPUTF8_REQUIRED',
      `${printable(address)} has non-ASCII characters before the "@", which need the SMTPUTF8 extension (RFC 6531)`,
      { hint: 'send through a server that offers SMTPUTF8, or use an ASCII address' },
    );
  }
  return { local, domain: ascii };
}

/**
 * Checks a mailbox ("user@example.com", "\"a b\"@[192.0.2.1]"). Throws InputError 'EADDRESS_INVALID',
 * or 'ESMTPUTF8_REQUIRED' for a UTF-8 local part without `smtpUtf8`. An IDN domain is valid either way:
 * it can always be sent as A-labels.
 */
export function validateMailbox(address: string, options: MailboxOptions = {}): void {
  parseMailbox(address, options);
}

/** Checks a MAIL FROM path: a mailbox, or "" for the null reverse-path of bounces (RFC 5321 §4.5.5). */
export function validateReversePath(address: string, options: MailboxOptions = {}): void {
  if (address !== '') parseMailbox(address, options);
}

export interface WireAddress {
  /** The address as it goes into MAIL FROM / RCPT TO. */
  readonly address: string;
  /** It still contains UTF-8, so MAIL FROM must carry the SMTPUTF8 parameter. */
  readonly needsSmtpUtf8: boolean;
}

/**
 * The form of a mailbox to send: without SMTPUTF8 an IDN domain becomes A-labels (and a UTF-8 local part
 * is an error, 'ESMTPUTF8_REQUIRED'); with SMTPUTF8 the address is kept as written.
 * The null reverse-path "" is not a mailbox: pass it to `mailFrom` directly.
 *
 * @example toWireAddress('info@bücher.example', { smtpUtf8: false }) // => { address: 'info@xn--bcher-kva.example', needsSmtpUtf8: false }
 */
export function toWireAddress(address: string, options: { readonly smtpUtf8: boolean }): WireAddress {
  const { local, domain } = parseMailbox(address, options);
  if (options.smtpUtf8) return { address, needsSmtpUtf8: hasNonAscii(address) };
  return { address: `${local}@${domain}`, needsSmtpUtf8: false };
}
