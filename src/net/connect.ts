/**
 * TCP connect with DNS resolution and a fallback over every address the name has, each with its own timeout.
 * Failures are collected so the final error can say what happened at each address.
 */
import { promises as dns } from 'node:dns';
import net from 'node:net';
import { ConnectionError, InputError, type PosternError, TimeoutError } from '../core/errors.js';
import { abortError } from '../core/timeout.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string | undefined;
  /** Restrict to IPv4 (4) or IPv6 (6); 0 or absent = both. */
  readonly family?: 0 | 4 | 6 | undefined;
  /** Milliseconds per address; default 15000. */
  readonly connectTimeout?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Replaces DNS, for tests: resolve `host` to addresses. */
  readonly lookup?: ((host: string) => Promise<readonly ResolvedAddress[]>) | undefined;
}

export interface TcpConnection {
  readonly socket: net.Socket;
  /** The address that answered. */
  readonly address: string;
  readonly family: number;
}

export const DEFAULT_CONNECT_TIMEOUT = 15_000;

type Failure = { readonly address: string; readonly code: string; readonly error: Error };

const DNS_NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);
const DNS_TEMPORARY = new Set(['EAI_AGAIN', 'ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED']);

/**
 * The addresses of `host` as connectTcp will try them (an IP literal as it is); a name that does not resolve is
 * an 'EDNS' ConnectionError, transient when the DNS server did not answer.
 *
 * @example await resolveHost({ host: 'localhost' }) // [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }]
 */
export async function resolveHost(
  o: Pick<ConnectOptions, 'host' | 'family' | 'lookup'>,
): Promise<ResolvedAddress[]> {
  const host = o.host.startsWith('[') && o.host.endsWith(']') ? o.host.slice(1, -1) : o.host;
  const literal = net.isIP(host);
  if (literal) return [{ address: host, family: literal }];
  let found: readonly ResolvedAddress[];
  try {
    // verbatim: keep the resolver's order (RFC 6724 as the system sorts it) instead of IPv4 first.
    found = o.lookup
      ? await o.lookup(host)
      : await dns.lookup(host, { all: true, verbatim: true, family: o.family ?? 0 });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? '';
    const temporary = DNS_TEMPORARY.has(code);
    throw new ConnectionError(
      'EDNS',
      temporary ? `could not resolve ${host}: the DNS lookup failed (${code})` : `host ${host} not found`,
      {
        phase: 'connect',
        cause,
        transient: temporary || !DNS_NOT_FOUND.has(code),
        hint: temporary
          ? 'the DNS server did not answer; check the network and try again'
          : 'check the spelling of the host name and that it has an A or AAAA record',
      },
    );
  }
  const wanted = found.filter((a) => !o.family || a.family === o.family);
  if (wanted.length === 0) {
    const what = o.family ? `no IPv${o.family} address` : 'no addresses';
    throw new ConnectionError('EDNS', `host ${host} has ${what}`, {
      phase: 'connect',
      hint: o.family
        ? 'drop the family option, or use a host name with an address of that family'
        : 'check the DNS records of the host',
    });
  }
  return [...wanted];
}

/** One attempt at one address; resolves with the connected socket or rejects with a Failure. */
function attempt(o: ConnectOptions, target: ResolvedAddress, timeout: number): Promise<net.Socket> {
  return new Promise((resolveSocket, reject) => {
    const socket = net.connect({
      host: target.address,
      port: o.port,
      family: target.family,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    const done = (failure?: Failure) => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      o.signal?.removeEventListener('abort', onAbort);
      if (failure) {
        socket.destroy();
        reject(failure);
      } else {
        resolveSocket(socket);
      }
    };
    const onConnect = () => done();
    const onError = (error: NodeJS.ErrnoException) =>
      done({ address: target.address, code: error.code ?? 'ECONNECTION', error });
    const onAbort = () => {
      done({ address: target.address, code: 'EABORTED', error: abortError(o.signal, 'connect') });
    };
    const timer = setTimeout(
      () =>
        done({
          address: target.address,
          code: 'ETIMEDOUT',
          error: new Error(`no answer within ${timeout} ms`),
        }),
      timeout,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(f: Failure): string {
  const what: Record<string, string> = {
    ECONNREFUSED: 'refused',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EADDRNOTAVAIL: 'local address not available',
  };
  return `${f.address}: ${what[f.code] ?? f.code}`;
}

/** Picks the error that tells the user the most: a refusal proves the host is up, a timeout suggests a filter. */
function summarise(o: ConnectOptions, failures: readonly Failure[], timeout: number): PosternError {
  const where = `${o.host} port ${o.port}`;
  const detail = failures.length > 1 ? ` (${failures.map(describe).join(', ')})` : '';
  const cause = failures.length === 1 ? failures[0]?.error : new AggregateError(failures.map((f) => f.error));
  const codes = new Set(failures.map((f) => f.code));
  if (codes.has('ECONNREFUSED')) {
    return new ConnectionError('ECONNREFUSED', `nothing is listening on ${where}${detail}`, {
      phase: 'connect',
      cause,
      transient: true,
      hint: 'check the port number and that the mail server is running; a firewall may be rejecting connections',
    });
  }
  if (codes.size === 1 && codes.has('ETIMEDOUT')) {
    return new TimeoutError(
      'ECONNECT_TIMEOUT',
      `no answer from ${where} within ${timeout} ms${failures.length > 1 ? ` at any of ${failures.length} addresses` : ''}`,
      {
        phase: 'connect',
        cause,
        transient: true,
        hint: 'the port may be filtered by a firewall (many networks block outgoing port 25), or the host is down',
      },
    );
  }
  const first = failures.find((f) => f.code !== 'ETIMEDOUT') ?? failures[0];
  return new ConnectionError(
    'ECONNECTION',
    `could not connect to ${where}: ${failures.map(describe).join(', ')}`,
    {
      phase: 'connect',
      cause: failures.length === 1 ? first?.error : cause,
      transient: true,
      hint:
        first?.code === 'EADDRNOTAVAIL'
          ? 'check localAddress'
          : 'check the network route to the server (VPN, IPv6 connectivity) or use family: 4',
    },
  );
}

/**
 * Opens a TCP connection to `host:port`, trying each resolved address in turn.
 *
 * @example const { socket, address } = await connectTcp({ host: 'smtp.example.com', port: 465 });
 */
export async function connectTcp(o: ConnectOptions): Promise<TcpConnection> {
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
    throw new InputError('EINVALID_ARGUMENT', `port must be an integer from 1 to 65535, got ${o.port}`);
  }
  if (o.signal?.aborted) throw abortError(o.signal, 'connect');
  const timeout = o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  const addresses = await resolveHost(o);
  const failures: Failure[] = [];
  for (const target of addresses) {
    if (o.signal?.aborted) throw abortError(o.signal, 'connect');
    try {
      const socket = await attempt(o, target, timeout);
      socket.setNoDelay(true);
      return { socket, address: target.address, family: target.family };
    } catch (failure) {
      const f = failure as Failure;
      if (f.code === 'EABORTED') throw f.error;
      failures.push(f);
    }
  }
  throw summarise(o, failures, timeout);
}
