/**
 * `--listen` values: `starttls://HOST:PORT` (plaintext with STARTTLS, 587/25-style) and `tls://HOST:PORT`
 * (implicit TLS, 465-style), IPv6 in brackets. Also whether an address can only be reached from this machine,
 * which decides if the server may run without --require-auth.
 */
import { InvalidArgumentError } from 'commander';
import { ipToBytes, ipVersion, normalizeIpv6 } from '../../tls/ip-literal.js';
import { LOCAL_SERVER } from '../defaults.js';

export interface ListenAddress {
  readonly tls: 'starttls' | 'implicit';
  /** As the listener takes it: an IPv6 address without brackets. */
  readonly host: string;
  /** 0 lets the system pick a free port (printed once bound). */
  readonly port: number;
}

const SCHEMES: Readonly<Record<string, ListenAddress['tls']>> = { starttls: 'starttls', tls: 'implicit' };
const LISTEN = /^([a-z]+):\/\/(\[[^\]]*\]|[^:/[\]]+):(\d{1,5})$/i;
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Parses one `--listen` value; a bad one is a usage error (exit 64).
 *
 * @example parseListen('tls://[::1]:2465') // { tls: 'implicit', host: '::1', port: 2465 }
 */
export function parseListen(value: string): ListenAddress {
  const m = LISTEN.exec(value.trim());
  const tls = m ? SCHEMES[m[1]!.toLowerCase()] : undefined;
  if (!m || !tls) {
    throw new InvalidArgumentError(
      'expected starttls://HOST:PORT or tls://HOST:PORT (IPv6 in brackets: tls://[::1]:2465)',
    );
  }
  const rawHost = m[2]!;
  const port = Number(m[3]);
  if (port > 65535) throw new InvalidArgumentError(`port ${port} is above 65535`);
  let host: string;
  if (rawHost.startsWith('[')) {
    const v6 = normalizeIpv6(rawHost);
    if (v6 === undefined) throw new InvalidArgumentError(`${rawHost} is not an IPv6 address`);
    host = v6;
  } else if (ipVersion(rawHost) === 4 || HOST_NAME.test(rawHost)) {
    host = rawHost;
  } else {
    throw new InvalidArgumentError(`${rawHost} is not an address or host name`);
  }
  return { tls, host, port };
}

/** For repeatable --listen: parses and collects. */
export function collectListen(value: string, previous: readonly ListenAddress[] = []): ListenAddress[] {
  return [...previous, parseListen(value)];
}

/** `postern serve` with no --listen: STARTTLS on 127.0.0.1:2525 and implicit TLS on 127.0.0.1:2465. */
export function defaultListen(): ListenAddress[] {
  return [
    { tls: 'starttls', host: LOCAL_SERVER.host, port: LOCAL_SERVER.starttlsPort },
    { tls: 'implicit', host: LOCAL_SERVER.host, port: LOCAL_SERVER.implicitPort },
  ];
}

/** `starttls://127.0.0.1:2525`, `tls://[::1]:2465` — the form --listen takes. */
export function formatListen(address: ListenAddress): string {
  return `${address.tls === 'implicit' ? 'tls' : 'starttls'}://${hostPort(address.host, address.port)}`;
}

/** host:port with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${ipVersion(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * True when only this machine can connect: 127.0.0.0/8, ::1, ::ffff:127.x.x.x, or the name localhost.
 * Any other name counts as reachable from outside (it could resolve to anything).
 */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const bytes = ipToBytes(host);
  if (!bytes) return false;
  if (bytes.length === 4) return bytes[0] === 127;
  const v4Mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4Mapped) return bytes[12] === 127;
  return bytes.subarray(0, 15).every((b) => b === 0) && bytes[15] === 1;
}

/** Where a client on this machine connects to reach `host`: the loopback address for a wildcard. */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (ipVersion(host) === 6 && normalizeIpv6(host) === '::') return '::1';
  return host;
}
