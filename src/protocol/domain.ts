/**
 * Domains and address literals as RFC 5321 §4.1.2/§4.1.3 allow them on the wire, with IDNs converted to
 * A-labels (RFC 5890) through node:url's UTS #46 implementation.
 */

import { domainToASCII } from 'node:url';
import { InputError } from '../core/errors.js';
import { printable } from './printable.js';

const NON_ASCII = /[^\x00-\x7f]/;
// sub-domain = Let-dig [Ldh-str]: letters, digits and inner hyphens, at most 63 octets (RFC 1035 §2.3.4).
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const SNUM = /^\d{1,3}$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** RFC 5321 §4.5.3.1.2. */
export const MAX_DOMAIN_OCTETS = 255;

/** Whether the text contains anything outside US-ASCII. */
export function hasNonAscii(text: string): boolean {
  return NON_ASCII.test(text);
}

function ipv4Problem(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return 'an IPv4 literal has four numbers';
  for (const part of parts)
    if (!SNUM.test(part) || Number(part) > 255) return `${part} is not a number 0–255`;
  return undefined;
}

// RFC 5321 §4.1.3: eight groups, or fewer around one "::" (which stands for at least two zero groups);
// an IPv4 tail counts as two groups.
function ipv6Problem(text: string): string | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return 'an IPv6 literal has at most one "::"';
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  let count = groups.length;
  const last = groups[groups.length - 1];
  if (last?.includes('.')) {
    const v4 = ipv4Problem(last);
    if (v4) return v4;
    groups.pop();
    count += 1;
  }
  for (const group of groups) if (!HEX_GROUP.test(group)) return `${printable(group)} is not an IPv6 group`;
  if (halves.length === 2 ? count > 6 : count !== 8) return 'wrong number of IPv6 groups';
  return undefined;
}

/** Why `literal` ("[192.0.2.1]", "[IPv6:2001:db8::1]") is not a valid address literal, or undefined. */
function addressLiteralProblem(literal: string): string | undefined {
  if (!literal.startsWith('[') || !literal.endsWith(']')) return 'an address literal is written in brackets';
  const inner = literal.slice(1, -1);
  // Only the IPv6 tag is registered, so general address literals (RFC 5321 §4.1.3) are not accepted.
  if (/^ipv6:/i.test(inner)) return ipv6Problem(inner.slice(5));
  return ipv4Problem(inner);
}

function asciiDomainProblem(ascii: string): string | undefined {
  if (ascii.length > MAX_DOMAIN_OCTETS) return `it is longer than ${MAX_DOMAIN_OCTETS} octets`;
  for (const label of ascii.split('.')) {
    if (label === '') return 'it has an empty label (two dots, or a dot at the start or end)';
    if (!LABEL.test(label)) {
      return `the label ${printable(label)} is not letters, digits and inner hyphens of at most 63 octets`;
    }
  }
  return undefined;
}

/** The A-label form of a domain name, or a reason why it is not one. */
function nameToAscii(domain: string): DomainCheck {
  if (domain === '') return { problem: 'it is empty' };
  const simple = !hasNonAscii(domain) && !/(?:^|\.)xn--/i.test(domain);
  // node:url maps and checks IDNs (UTS #46); ASCII names keep their case, as the caller wrote them.
  const ascii = simple ? domain : domainToASCII(domain);
  if (ascii === '') return { problem: 'it is not a valid internationalized domain name' };
  const problem = asciiDomainProblem(ascii);
  return problem ? { problem } : { ascii };
}

export type DomainCheck = { readonly ascii: string } | { readonly problem: string };

/**
 * Checks the domain of a mailbox or an EHLO argument: a domain name (ASCII or IDN) or an address literal.
 * Gives the wire form (A-labels; a literal as it is) or the reason it is invalid.
 */
export function checkDomain(domain: string): DomainCheck {
  if (!domain.startsWith('[')) return nameToAscii(domain);
  const problem = addressLiteralProblem(domain);
  return problem ? { problem } : { ascii: domain };
}

/**
 * A domain name in its ASCII (A-label) form; ASCII names are returned unchanged. Throws InputError
 * 'EADDRESS_INVALID' for something that is not a domain name.
 *
 * @example domainToAscii('bücher.example') // => 'xn--bcher-kva.example'
 */
export function domainToAscii(domain: string): string {
  const result = domain.startsWith('[')
    ? { problem: 'an address literal is not a domain name' }
    : nameToAscii(domain);
  if ('problem' in result) {
    throw new InputError('EADDRESS_INVALID', `${printable(domain)} is not a valid domain: ${result.problem}`);
  }
  return result.ascii;
}
