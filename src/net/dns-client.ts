/**
 * A small stub resolver client: one question to one recursive (or authoritative) server over UDP, again over
 * TCP when the answer comes back truncated (RFC 7766). Unlike node:dns it can ask for TLSA records, sets the
 * EDNS0 DO bit and reports the AD bit, so callers learn whether a DNSSEC-validating resolver vouched for the
 * answer — what DANE (RFC 7672) needs — and it can ask any server given as host:port.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import {
  ConnectionError,
  InputError,
  type PosternError,
  ProtocolError,
  TimeoutError,
} from '../core/errors.js';
import { abortError } from '../core/timeout.js';
import {
  answersFor,
  DNS_TYPES,
  type DnsMessage,
  type DnsRecord,
  type DnsType,
  decodeMessage,
  encodeQuery,
  normalizeName,
  rcodeName,
} from './dns-message.js';

export const DEFAULT_DNS_TIMEOUT = 3000;
export const DEFAULT_DNS_RETRIES = 2;

/** Where queries go: an IP address (never a name — resolving the resolver would need a resolver). */
export interface DnsServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface DnsClientOptions {
  /** "127.0.0.1:5353", "[::1]:53" or a bare address (port 53). Default: the first nameserver of resolv.conf. */
  readonly resolver?: string | DnsServerAddress | undefined;
  /** Milliseconds per attempt (UDP try, or the whole TCP exchange); default 3000. */
  readonly timeout?: number | undefined;
  /** UDP attempts after the first one times out; default 2. */
  readonly retries?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Where the system resolver is configured; default /etc/resolv.conf. */
  readonly resolvConf?: string | undefined;
}

/** One reply, as decoded, with the transport that carried it. */
export interface DnsReply {
  readonly message: DnsMessage;
  readonly transport: 'udp' | 'tcp';
  readonly server: DnsServerAddress;
}

/** The records of one type for one name, with what the reply said about them. */
export interface DnsLookup<T extends DnsType> {
  readonly name: string;
  readonly type: T;
  readonly records: Extract<DnsRecord, { type: T }>[];
  /** The AD bit: the resolver validated the answer with DNSSEC. */
  readonly authenticated: boolean;
  /** The name does not exist (NXDOMAIN); `records` is empty then. */
  readonly nxdomain: boolean;
  readonly transport: 'udp' | 'tcp';
}

function label(server: DnsServerAddress): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/**
 * Parses "host:port", "[v6]:port" or a bare IP address (port 53) into a resolver address.
 *
 * @example parseResolverAddress('127.0.0.1:5353') // { host: '127.0.0.1', port: 5353 }
 */
export function parseResolverAddress(text: string): DnsServerAddress {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  const plain = /^([^:]+):(\d+)$/.exec(trimmed);
  const [host, port] = bracketed
    ? [bracketed[1] ?? '', bracketed[2] ?? '53']
    : plain
      ? [plain[1] ?? '', plain[2] ?? '53']
      : [trimmed, '53'];
  const portNumber = Number(port);
  // A scope id ("fe80::1%eth0") is not part of what isIP checks.
  if (
    !net.isIP(host.replace(/%.*$/, '')) ||
    !Number.isInteger(portNumber) ||
    portNumber < 1 ||
    portNumber > 65535
  ) {
    throw new InputError('EINVALID_ARGUMENT', `not a DNS server address: ${JSON.stringify(text)}`, {
      hint: 'give an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53',
    });
  }
  return { host, port: portNumber };
}

/**
 * The first `nameserver` of resolv.conf, as the C library would use it; 127.0.0.1:53 when the file is missing
 * or names none (glibc's default too).
 */
export async function systemResolver(path = '/etc/resolv.conf'): Promise<DnsServerAddress> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { host: '127.0.0.1', port: 53 };
  }
  for (const line of text.split('\n')) {
    const [keyword, address] = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (keyword === 'nameserver' && address) {
      try {
        return { host: parseResolverAddress(address).host, port: 53 };
      } catch {
        // a line we cannot use; the C library skips it as well
      }
    }
  }
  return { host: '127.0.0.1', port: 53 };
}

interface Exchange {
  readonly server: DnsServerAddress;
  readonly query: Buffer;
  readonly id: number;
  readonly name: string;
  readonly type: DnsType;
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
}

/** True when the reply answers our question (RFC 5452 §9.1: ID, name, type and class must all match). */
function answersQuestion(message: DnsMessage, x: Exchange): boolean {
  const q = message.question[0];
  return (
    message.response &&
    message.id === x.id &&
    message.question.length === 1 &&
    q !== undefined &&
    q.name === normalizeName(x.name) &&
    q.type === DNS_TYPES[x.type] &&
    q.class === 1
  );
}

/** Runs `start` with a deadline and the abort signal; `cleanup` runs exactly once whichever way it ends. */
function guarded<T>(
  x: Exchange,
  what: string,
  start: (resolve: (value: T) => void, reject: (err: PosternError) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (x.signal?.aborted) {
      reject(abortError(x.signal));
      return;
    }
    let cleanup: (() => void) | undefined;
    let settled = false;
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      x.signal?.removeEventListener('abort', onAbort);
      cleanup?.();
    };
    const onAbort = () => {
      if (settled) return;
      finish();
      reject(abortError(x.signal));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      reject(
        new TimeoutError('ETIMEOUT', `no ${what} answer from ${label(x.server)} within ${x.timeout} ms`, {
          transient: true,
          hint: 'check that a DNS server listens there (--resolver host:port) and that nothing filters port 53',
        }),
      );
    }, x.timeout);
    x.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(
      (value) => {
        if (settled) return;
        finish();
        resolve(value);
      },
      (err) => {
        if (settled) return;
        finish();
        reject(err);
      },
    );
    if (settled) cleanup();
  });
}

function socketError(x: Exchange, err: NodeJS.ErrnoException, transport: string): PosternError {
  if (err.code === 'ECONNREFUSED') {
    return new ConnectionError('ECONNREFUSED', `no DNS server answers on ${label(x.server)} (${transport})`, {
      cause: err,
      transient: true,
      hint: 'check the --resolver address',
    });
  }
  return new ConnectionError(
    'ECONNECTION',
    `DNS over ${transport} to ${label(x.server)} failed: ${err.message}`,
    {
      cause: err,
      transient: true,
    },
  );
}

/** The reply over UDP, or 'truncated' when it has the TC bit and is cut short (then only TCP can tell). */
function udpExchange(x: Exchange): Promise<DnsMessage | 'truncated'> {
  return guarded<DnsMessage | 'truncated'>(x, 'UDP', (resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(x.server.host.replace(/%.*$/, '')) ? 'udp6' : 'udp4');
    socket.on('error', (err) => reject(socketError(x, err, 'UDP')));
    socket.on('message', (datagram) => {
      // Datagrams whose ID is not ours are stale or forged: ignore them and keep waiting (RFC 5452).
      if (datagram.length < 2 || datagram.readUInt16BE(0) !== x.id) return;
      let message: DnsMessage | 'truncated';
      try {
        message = decodeMessage(datagram);
      } catch (err) {
        // Some servers cut a too-long answer mid-record and set TC; the full answer comes over TCP.
        if (datagram.length >= 4 && (datagram.readUInt8(2) & 0x02) !== 0) resolve('truncated');
        else reject(err as PosternError);
        return;
      }
      if (answersQuestion(message, x)) resolve(message);
    });
    // A connected socket only receives datagrams from the server's address and port.
    socket.connect(x.server.port, x.server.host, () => socket.send(x.query));
    return () => {
      try {
        socket.close();
      } catch {
        // already closed after an error
      }
    };
  });
}

/** Replies over TCP carry a two-octet length, so 65535 octets is the most we ever buffer. */
function tcpExchange(x: Exchange): Promise<DnsMessage> {
  return guarded(x, 'TCP', (resolve, reject) => {
    const socket = net.connect({ host: x.server.host, port: x.server.port });
    let buffered = Buffer.alloc(0);
    socket.on('error', (err) => reject(socketError(x, err, 'TCP')));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(x.query.length, 0);
      socket.write(Buffer.concat([length, x.query]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const size = buffered.readUInt16BE(0);
      if (buffered.length < 2 + size) return;
      try {
        const message = decodeMessage(buffered.subarray(2, 2 + size));
        if (!answersQuestion(message, x)) {
          throw new ProtocolError(
            'EPROTOCOL',
            `the DNS reply over TCP from ${label(x.server)} answers another question`,
          );
        }
        resolve(message);
      } catch (err) {
        reject(err as PosternError);
      }
    });
    socket.on('end', () =>
      reject(
        new ConnectionError(
          'ECONNECTION_CLOSED',
          `${label(x.server)} closed the DNS TCP connection before answering`,
          {
            transient: true,
          },
        ),
      ),
    );
    return () => socket.destroy();
  });
}

/**
 * Asks one server for DNS records. Timeouts are per attempt; UDP is retried, TCP is used when UDP comes back
 * truncated. Every failure is a PosternError: ETIMEOUT, ECONNREFUSED, ECONNECTION(_CLOSED), EPROTOCOL for a
 * malformed reply, EDNS for an error rcode (from `lookup`), EABORTED.
 *
 * @example
 * const dns = new DnsClient({ resolver: '127.0.0.1:5353' });
 * const { records, authenticated } = await dns.lookup('_25._tcp.mx.example.com', 'TLSA');
 */
export class DnsClient {
  readonly #options: DnsClientOptions;
  #server: Promise<DnsServerAddress> | undefined;

  constructor(options: DnsClientOptions = {}) {
    this.#options = options;
    const { resolver } = options;
    if (resolver !== undefined) {
      const server = typeof resolver === 'string' ? parseResolverAddress(resolver) : resolver;
      this.#server = Promise.resolve(server);
    }
  }

  /** The server queries go to. */
  server(): Promise<DnsServerAddress> {
    this.#server ??= systemResolver(this.#options.resolvConf);
    return this.#server;
  }

  /** Sends one question and returns the decoded reply, whatever its rcode. */
  async query(name: string, type: DnsType, signal = this.#options.signal): Promise<DnsReply> {
    const server = await this.server();
    const id = randomInt(0, 0x1_0000);
    const x: Exchange = {
      server,
      query: encodeQuery(id, name, type),
      id,
      name,
      type,
      timeout: this.#options.timeout ?? DEFAULT_DNS_TIMEOUT,
      signal,
    };
    const attempts = 1 + Math.max(0, this.#options.retries ?? DEFAULT_DNS_RETRIES);
    for (let attempt = 1; ; attempt++) {
      let message: DnsMessage | 'truncated';
      try {
        message = await udpExchange(x);
      } catch (err) {
        if (err instanceof TimeoutError && attempt < attempts) continue;
        throw err;
      }
      if (message !== 'truncated' && !message.flags.tc) return { message, transport: 'udp', server };
      return { message: await tcpExchange(x), transport: 'tcp', server };
    }
  }

  /**
   * The records of `type` for `name` (following CNAMEs in the answer). NXDOMAIN and "no records" are
   * answers, not errors; SERVFAIL, REFUSED and other error rcodes throw ConnectionError EDNS.
   */
  async lookup<T extends DnsType>(name: string, type: T, signal?: AbortSignal): Promise<DnsLookup<T>> {
    const reply = await this.query(name, type, signal);
    const { rcode, flags } = reply.message;
    if (rcode !== 0 && rcode !== 3) {
      const code = rcodeName(rcode);
      throw new ConnectionError('EDNS', `${label(reply.server)} answered ${code} for ${name} ${type}`, {
        transient: code === 'SERVFAIL' || code === 'REFUSED',
        hint:
          code === 'SERVFAIL'
            ? 'the resolver could not get a (valid) answer; with DNSSEC this often means a broken signature'
            : 'check the --resolver address and that it serves this name',
      });
    }
    return {
      name: normalizeName(name),
      type,
      records: rcode === 3 ? [] : answersFor(reply.message, name, type),
      authenticated: flags.ad,
      nxdomain: rcode === 3,
      transport: reply.transport,
    };
  }
}
