/**
 * Where a probe connected from: the class of our own (local) IP address. Many servers trust mail from
 * loopback and from their own networks (Postfix's mynetworks), so a recipient accepted from such an address
 * says less than one accepted from a public address. Pure parsing, no I/O.
 */
import type { SmtpScanResult } from '../types.js';

export type AddressClass = NonNullable<SmtpScanResult['relaySource']>;

/**
 * The class of an IPv4 or IPv6 address (brackets, a zone id and the IPv4-mapped form are understood):
 * 'loopback' for 127.0.0.0/8 and ::1; 'private' for RFC 1918, shared (100.64.0.0/10), link-local, unique
 * local (fc00::/7) and unspecified addresses; 'public' otherwise. undefined when `address` is not an IP address.
 *
 * @example addressClass('::ffff:10.1.2.3') // => 'private'
 */
export function addressClass(address: string): AddressClass | undefined {
  const text = address
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%[^%]*$/, '');
  const v4 = parseIpv4(text);
  if (v4) return ipv4Class(v4);
  const v6 = parseIpv6(text);
  if (!v6) return undefined;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = v6;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0) {
    if (f === 0xffff) return ipv4Class([g >> 8, g & 0xff, h >> 8, h & 0xff]);
    if (f === 0 && g === 0 && h === 1) return 'loopback';
    if (f === 0 && g === 0 && h === 0) return 'private';
  }
  if ((a & 0xfe00) === 0xfc00 || (a & 0xffc0) === 0xfe80) return 'private';
  return 'public';
}

function ipv4Class([a = 0, b = 0]: readonly number[]): AddressClass {
  if (a === 127) return 'loopback';
  if (a === 0 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if ((a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)) return 'private';
  return 'public';
}

/** Four octets, or undefined when `text` is not dotted-decimal IPv4. */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** Eight 16-bit groups, or undefined when `text` is not IPv6 (a dotted IPv4 tail is allowed). */
function parseIpv6(text: string): number[] | undefined {
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string, ipv4Tail: boolean): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const words = half.split(':');
    for (const [i, word] of words.entries()) {
      if (word.includes('.')) {
        const v4 = ipv4Tail && i === words.length - 1 ? parseIpv4(word) : undefined;
        if (!v4) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(word)) {
        out.push(Number.parseInt(word, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  if (halves.length === 1) {
    const all = groups(text, true);
    return all?.length === 8 ? all : undefined;
  }
  const head = groups(halves[0] ?? '', false);
  const tail = groups(halves[1] ?? '', true);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}
