/**
 * The PROXY protocol (HAProxy's specification, versions 1 and 2): a load balancer puts one header at the very
 * start of the connection saying whom it accepted the connection from. It is read only there, only on
 * endpoints that enable it, and only from upstream addresses on the trusted list — otherwise anyone could
 * claim any address.
 */
import net from 'node:net';

export interface ProxiedAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export type ProxyHeader =
  /** The upstream relayed a client: these are the client's and the original destination's addresses. */
  | { readonly kind: 'proxy'; readonly source: ProxiedAddress; readonly destination: ProxiedAddress }
  /** A health check or an unknown protocol (v1 UNKNOWN, v2 LOCAL): keep the connection's own addresses. */
  | { readonly kind: 'local' };

export type ProxyParse =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string }
  | { readonly status: 'ok'; readonly header: ProxyHeader; readonly length: number };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** v1: the longest header, CRLF included. */
const V1_MAX = 107;
/** v2: the fixed part before the addresses. */
const V2_FIXED = 16;
/** Longest v2 header we accept (addresses plus TLVs); the format allows 65535. */
const V2_MAX = 16 + 536;

function invalid(reason: string): ProxyParse {
  return { status: 'invalid', reason };
}

/** True while `buf` can still become `prefix` (it is a prefix of it, or starts with it). */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

/**
 * Parses a PROXY header at the start of `buf` (the first bytes of a connection).
 *
 * @example parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 5000 25\r\n'))
 */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (startsLike(buf, V2_SIGNATURE)) return buf.length < V2_FIXED ? { status: 'incomplete' } : parseV2(buf);
  if (startsLike(buf, V1_PREFIX)) return parseV1(buf);
  return invalid('the connection does not start with a PROXY protocol header');
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n');
  if (end === -1)
    return buf.length >= V1_MAX ? invalid('the v1 header is too long') : { status: 'incomplete' };
  if (end + 2 > V1_MAX) return invalid('the v1 header is too long');
  const words = buf.toString('latin1', 0, end).split(' ');
  const length = end + 2;
  if (words[1] === 'UNKNOWN') return { status: 'ok', header: { kind: 'local' }, length };
  if (words.length !== 6 || (words[1] !== 'TCP4' && words[1] !== 'TCP6')) {
    return invalid('the v1 header is malformed');
  }
  const family = words[1] === 'TCP4' ? 4 : 6;
  const source = v1Address(words[2], words[4], family);
  const destination = v1Address(words[3], words[5], family);
  if (!source || !destination) return invalid('the v1 header has a bad address or port');
  return { status: 'ok', header: { kind: 'proxy', source, destination }, length };
}

function v1Address(address: string | undefined, port: string | undefined, family: 4 | 6) {
  if (address === undefined || port === undefined || net.isIP(address) !== family) return undefined;
  // RFC-style ports: 0–65535 written without leading zeros.
  if (!/^(?:0|[1-9]\d{0,4})$/.test(port) || Number(port) > 65535) return undefined;
  return { address, port: Number(port), family };
}

function parseV2(buf: Buffer): ProxyParse {
  const versionCommand = buf[12] ?? 0;
  const familyTransport = buf[13] ?? 0;
  const bodyLength = buf.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return invalid('unsupported PROXY protocol version');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('unknown v2 command');
  const length = V2_FIXED + bodyLength;
  if (length > V2_MAX) return invalid('the v2 header is too long');
  if (buf.length < length) return { status: 'incomplete' };
  if (command === 0) return { status: 'ok', header: { kind: 'local' }, length };
  const family = familyTransport >> 4;
  const transport = familyTransport & 0x0f;
  // Only TCP over IPv4/IPv6 says where a client is; UNSPEC and UNIX sockets are treated like LOCAL.
  if ((family !== 1 && family !== 2) || transport !== 1) {
    return { status: 'ok', header: { kind: 'local' }, length };
  }
  const size = family === 1 ? 4 : 16;
  if (bodyLength < size * 2 + 4) return invalid('the v2 address block is too short');
  const body = buf.subarray(V2_FIXED);
  const ip = (offset: number) =>
    family === 1
      ? [...body.subarray(offset, offset + 4)].join('.')
      : ipv6(body.subarray(offset, offset + 16));
  const fam = family === 1 ? 4 : 6;
  return {
    status: 'ok',
    header: {
      kind: 'proxy',
      source: { address: ip(0), port: body.readUInt16BE(size * 2), family: fam },
      destination: { address: ip(size), port: body.readUInt16BE(size * 2 + 2), family: fam },
    },
    length,
  };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Let the URL parser write the canonical compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/**
 * A list of trusted upstreams: addresses ("10.0.0.5", "::1") and networks ("10.0.0.0/8").
 *
 * @example const trusted = trustedProxies(['127.0.0.1', '10.0.0.0/8']); trusted('10.1.2.3') // => true
 */
export function trustedProxies(list: readonly string[]): (address: string) => boolean {
  const block = new net.BlockList();
  for (const entry of list) {
    const [address = '', prefix] = entry.split('/');
    const type = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (net.isIP(address) === 0)
      throw new RangeError(`${JSON.stringify(entry)} is not an address or network`);
    if (prefix === undefined) block.addAddress(address, type);
    else block.addSubnet(address, Number(prefix), type);
  }
  return (address: string) => {
    const bare = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    const type = net.isIP(bare) === 6 ? 'ipv6' : 'ipv4';
    return net.isIP(bare) !== 0 && block.check(bare, type);
  };
}
