/**
 * IP literal detection without node:net (tls/ must not import socket modules).
 * Used to keep IP addresses out of SNI (RFC 6066 §3 forbids literal addresses in server_name)
 * and to put them in iPAddress rather than dNSName SAN entries.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** 4 for a dotted-quad IPv4 address, 6 for an IPv6 address (brackets allowed), 0 otherwise. */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  return normalizeIpv6(text) === undefined ? 0 : 6;
}

export function isIpLiteral(text: string): boolean {
  return ipVersion(text) !== 0;
}

/**
 * The canonical (RFC 5952, compressed) form of an IPv6 address, or undefined when `text` is not one.
 * The WHATWG URL parser does the validation, which also accepts an embedded IPv4 tail ("::ffff:1.2.3.4").
 * Zone identifiers ("fe80::1%eth0") are not addresses that can appear in a certificate, so they are refused.
 */
export function normalizeIpv6(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!bare.includes(':') || !/^[0-9a-fA-F:.]+$/.test(bare)) return undefined;
  try {
    const host = new URL(`http://[${bare}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** The 4 or 16 octets of an IP literal (for an iPAddress SAN), or undefined when `text` is not one. */
export function ipToBytes(text: string): Buffer | undefined {
  if (IPV4.test(text)) return Buffer.from(text.split('.').map(Number));
  const v6 = normalizeIpv6(text);
  if (v6 === undefined) return undefined;
  // After URL normalisation only hex groups and at most one "::" remain.
  const [head = '', tail] = v6.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) out.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  return out;
}
