/**
 * Addresses in header fields (RFC 5322 §3.4) and the envelope: parsing the caller's input, checking each
 * addr-spec, and writing display names so every reader gets them back exactly.
 *
 * The addr-spec grammar is RFC 5322's dot-atom / quoted-string local part with RFC 6532's UTF-8, on a domain
 * that must be deliverable (a host name, IDN or address literal, as RFC 5321 wants). A UTF-8 local part
 * needs SMTPUTF8. An IDN domain is written as A-labels (punycode) unless SMTPUTF8 lets UTF-8 go raw.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { InputError } from '../core/errors.js';
import { parseAddressList } from './address-parser.js';
import { FieldWriter, type HeaderContext, MAX_RAW_WORD } from './header.js';
import { assertOneLine, describeType, hasNonAscii, octets, shown } from './input.js';
import type { Addresses, AddressObject } from './message.js';

/** A checked mailbox. */
export interface Mailbox {
  readonly name: string;
  /** As written: a dot-atom or a quoted string with its quotes. */
  readonly local: string;
  /** As written (ASCII, IDN or an address literal in brackets). */
  readonly domain: string;
  /** The A-label form of `domain`. */
  readonly asciiDomain: string;
}

export interface Group {
  readonly name: string;
  readonly members: readonly Mailbox[];
}

export type AddressEntry = Mailbox | Group;

export interface AddressContext {
  /** UTF-8 local parts are allowed and UTF-8 goes raw into header fields. */
  readonly smtpUtf8: boolean;
}

/** RFC 5321 §4.5.3.1.1 and §4.5.3.1.3 (a path is at most 256 octets with its angle brackets). */
const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;

// atext (RFC 5322 §3.2.3) plus UTF8-non-ascii (RFC 6532 §3.2), except C1 controls.
const ATOM = /^(?:[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]|[^\x00-\x9f])+$/u;
// qtext, quoted-pair and spaces (RFC 5322 §3.2.4), again with UTF-8.
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|[^\x00-\x9f]|\\[\x20-\x7e])*"$/u;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function invalid(address: string, why: string): InputError {
  return new InputError('EADDRESS_INVALID', `${shown(address)} is not a valid email address: ${why}`, {
    hint: /[<>]/.test(address)
      ? 'pass a display name as { name, address } or write it as "Name <user@example.com>"'
      : undefined,
  });
}

function localProblem(local: string): string | undefined {
  if (local === '') return 'the part before "@" is empty';
  if (local.startsWith('"')) return QUOTED.test(local) ? undefined : 'the quoted local part is malformed';
  for (const atom of local.split('.')) {
    if (atom === '') return 'the local part has a dot at the start or end, or two dots';
    if (!ATOM.test(atom)) return `the local part has a character that must be quoted in ${shown(atom)}`;
  }
  return undefined;
}

function literalProblem(literal: string): string | undefined {
  const inner = literal.slice(1, -1);
  if (!literal.endsWith(']')) return 'an address literal ends with "]"';
  if (/^ipv6:/i.test(inner)) {
    try {
      // The URL parser knows every IPv6 text form (RFC 4291 §2.2), which is what RFC 5321 §4.1.3 allows.
      new URL(`http://[${inner.slice(5)}]/`);
      return /^[0-9a-f:.]+$/i.test(inner.slice(5)) ? undefined : 'not an IPv6 address';
    } catch {
      return 'not an IPv6 address';
    }
  }
  return IPV4.test(inner) ? undefined : 'not an IPv4 address (write IPv6 as [IPv6:...])';
}

/** The A-label form of a domain, or why it is not a host name. */
function asciiDomainOf(domain: string): { ascii: string } | { problem: string } {
  if (domain === '') return { problem: 'the domain is empty' };
  if (domain.startsWith('[')) {
    const problem = literalProblem(domain);
    return problem ? { problem } : { ascii: domain };
  }
  const needsIdna = hasNonAscii(domain) || /(?:^|\.)xn--/i.test(domain);
  const ascii = needsIdna ? domainToASCII(domain) : domain;
  if (ascii === '') return { problem: `${shown(domain)} is not a valid internationalized domain name` };
  if (ascii.length > 253) return { problem: 'the domain is longer than 253 octets' };
  for (const label of ascii.split('.')) {
    if (!LABEL.test(label)) {
      return { problem: `the domain label ${shown(label)} is not letters, digits and inner hyphens` };
    }
  }
  return { ascii };
}

/**
 * Checks an addr-spec ('user@example.com'). Throws 'EADDRESS_INVALID', or 'ESMTPUTF8_REQUIRED' for a UTF-8
 * local part without SMTPUTF8.
 */
export function parseAddrSpec(address: string, name: string, context: AddressContext): Mailbox {
  assertOneLine(address, 'the address');
  const at = address.lastIndexOf('@');
  if (at === -1) throw invalid(address, 'it has no "@"');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const problem = localProblem(local);
  if (problem) throw invalid(address, problem);
  if (octets(local) > MAX_LOCAL_OCTETS) {
    throw invalid(address, `the part before "@" is longer than ${MAX_LOCAL_OCTETS} octets`);
  }
  const checked = asciiDomainOf(domain);
  if ('problem' in checked) throw invalid(address, checked.problem);
  if (octets(local) + 1 + checked.ascii.length > MAX_ADDRESS_OCTETS) {
    throw invalid(address, `it is longer than ${MAX_ADDRESS_OCTETS} octets`);
  }
  if (!context.smtpUtf8 && hasNonAscii(local)) {
    throw new InputError(
      'ESMTPUTF8_REQUIRED',
      `${shown(address)} has non-ASCII characters before the "@", which need SMTPUTF8 (RFC 6531)`,
      { hint: 'send through a server that offers SMTPUTF8, or use an ASCII address' },
    );
  }
  return { name, local, domain, asciiDomain: checked.ascii };
}

function mailboxOf(input: string | AddressObject, what: string, context: AddressContext): Mailbox[] {
  if (typeof input === 'string') {
    assertOneLine(input, what);
    return parseAddressList(input).flatMap((entry) => {
      if ('group' in entry) throw invalid(input, `${what} cannot hold a group`);
      return [parseAddrSpec(entry.address, entry.name, context)];
    });
  }
  if (typeof input === 'object' && input !== null && typeof input.address === 'string') {
    const name = input.name ?? '';
    if (typeof name !== 'string') throw invalid(input.address, 'the display name is not a string');
    assertOneLine(name, 'the display name');
    return [parseAddrSpec(input.address.trim(), name, context)];
  }
  throw new InputError(
    'EADDRESS_INVALID',
    `${what} must be an address string or { name, address }, not ${describeType(input)}`,
  );
}

/**
 * The entries of an address field from the caller's input (strings, objects, groups, arrays of them).
 * `allowGroups` is false for From and Sender, which hold mailboxes only.
 */
export function parseAddresses(
  input: Addresses | undefined,
  what: string,
  context: AddressContext,
  allowGroups = true,
): AddressEntry[] {
  if (input === undefined || input === null) return [];
  const list: readonly unknown[] = Array.isArray(input) ? input : [input];
  const entries: AddressEntry[] = [];
  for (const item of list) {
    if (typeof item === 'object' && item !== null && 'group' in item) {
      const group = item as { name: unknown; group: unknown };
      if (!allowGroups) throw invalid(String(group.name), `${what} cannot hold a group`);
      entries.push(groupOf(group.name, group.group, what, context));
    } else if (typeof item === 'string') {
      assertOneLine(item, what);
      for (const entry of parseAddressList(item)) {
        if ('group' in entry) {
          if (!allowGroups) throw invalid(item, `${what} cannot hold a group`);
          entries.push(groupOf(entry.name, entry.group, what, context));
        } else entries.push(parseAddrSpec(entry.address, entry.name, context));
      }
    } else entries.push(...mailboxOf(item as AddressObject, what, context));
  }
  return entries;
}

function groupOf(name: unknown, members: unknown, what: string, context: AddressContext): Group {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InputError('EADDRESS_INVALID', `a group in ${what} needs a name`);
  }
  assertOneLine(name, 'the group name');
  if (!Array.isArray(members))
    throw new InputError('EADDRESS_INVALID', `the group ${shown(name)} has no list`);
  return {
    name,
    members: members.flatMap((m: string | AddressObject) =>
      mailboxOf(m, `the group ${shown(name)}`, context),
    ),
  };
}

/** The mailboxes of the entries, group members included. */
export function mailboxesOf(entries: readonly AddressEntry[]): Mailbox[] {
  return entries.flatMap((entry) => ('members' in entry ? entry.members : [entry]));
}

/** The addr-spec as it goes into a header field: A-labels, or the domain's UTF-8 form under SMTPUTF8. */
export function headerAddress(mailbox: Mailbox, context: HeaderContext): string {
  const domain =
    context.smtpUtf8 && hasNonAscii(mailbox.domain)
      ? domainToUnicode(mailbox.asciiDomain)
      : mailbox.asciiDomain;
  return `${mailbox.local}@${domain}`;
}

/** The address for MAIL FROM / RCPT TO: the domain always as A-labels, which every server takes. */
export function envelopeAddress(mailbox: Mailbox): string {
  return `${mailbox.local}@${mailbox.asciiDomain}`;
}

const PHRASE_ATOM = /^(?:[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]|[^\x00-\x9f])+$/u;

/**
 * Adds a display name (RFC 5322 phrase): atoms when it is plain words, else a quoted string; encoded words
 * when it has text that must not go raw (non-ASCII without SMTPUTF8, controls, or "=?" that a reader would
 * decode). `suffix` is written straight after it (":" for a group name).
 */
export function addPhrase(field: FieldWriter, name: string, context: HeaderContext, suffix = ''): void {
  const rawOk =
    !name.includes('=?') &&
    octets(name) <= MAX_RAW_WORD &&
    (context.smtpUtf8 ? !/[\x00-\x1f\x7f-\x9f]/.test(name) : /^[\x20-\x7e]*$/.test(name));
  if (!rawOk) {
    field.addEncoded(' ', name, suffix, true);
    return;
  }
  const words = name.split(' ');
  if (words.every((word) => PHRASE_ATOM.test(word))) {
    words.forEach((word, i) => {
      field.add(' ', i === words.length - 1 ? word + suffix : word);
    });
    return;
  }
  field.add(' ', `"${name.replace(/[\\"]/g, '\\$&')}"${suffix}`);
}

function addMailbox(field: FieldWriter, mailbox: Mailbox, context: HeaderContext, suffix: string): void {
  const spec = headerAddress(mailbox, context);
  if (mailbox.name === '') {
    field.add(' ', spec + suffix);
    return;
  }
  addPhrase(field, mailbox.name, context);
  field.add(' ', `<${spec}>${suffix}`);
}

/**
 * An address header field (From, To, Cc, Reply-To, Sender), folded between addresses and words.
 *
 * @example addressField('To', [{ name: 'Zoë', local: 'z', domain: 'example.com', asciiDomain: 'example.com' }], { smtpUtf8: false })
 * // => 'To: =?utf-8?Q?Zo=C3=AB?= <z@example.com>\r\n'
 */
export function addressField(name: string, entries: readonly AddressEntry[], context: HeaderContext): string {
  const field = new FieldWriter(name);
  entries.forEach((entry, i) => {
    const separator = i < entries.length - 1 ? ',' : '';
    if (!('members' in entry)) {
      addMailbox(field, entry, context, separator);
      return;
    }
    addPhrase(field, entry.name, context, ':');
    if (entry.members.length === 0) field.add('', `;${separator}`);
    entry.members.forEach((member, k) => {
      addMailbox(field, member, context, k === entry.members.length - 1 ? `;${separator}` : ',');
    });
  });
  return field.toString();
}
