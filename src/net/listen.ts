/**
 * Listening for TCP connections on one address. The server gets plain sockets and decides itself when TLS
 * starts (after a PROXY header, at once for implicit TLS, or after STARTTLS).
 */
import net from 'node:net';
import { ConnectionError } from '../core/errors.js';

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly backlog?: number;
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export interface Listener {
  readonly address: BoundAddress;
  /** Stops accepting; resolves once the listening socket is closed (open connections are not touched). */
  close(): Promise<void>;
}

/**
 * Listens on host:port and calls `onConnection` with each accepted socket.
 *
 * @example const listener = await listenTcp({ host: '127.0.0.1', port: 0 }, (socket) => socket.end());
 */
export function listenTcp(o: ListenOptions, onConnection: (socket: net.Socket) => void): Promise<Listener> {
  return new Promise((resolve, reject) => {
    // Nagle off: replies are written whole, one write per group of pipelined replies.
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, onConnection);
    const onError = (cause: Error) => {
      const code = (cause as NodeJS.ErrnoException).code;
      reject(
        new ConnectionError(
          'ECONNECTION',
          `cannot listen on ${o.host} port ${o.port}${code ? ` (${code})` : ''}`,
          {
            cause,
            hint: code === 'EADDRINUSE' ? 'another program uses this port; pick another one' : undefined,
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: o.host, port: o.port, backlog: o.backlog ?? 511, exclusive: true }, () => {
      server.off('error', onError);
      // Accept errors (EMFILE and the like) must not crash the process; the next accept may succeed.
      server.on('error', () => {});
      const bound = server.address() as net.AddressInfo;
      resolve({
        address: { host: bound.address, port: bound.port, family: bound.family === 'IPv6' ? 6 : 4 },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
          }),
      });
    });
  });
}

/** The remote and local addresses of a socket ("" and 0 when already closed). */
export function socketAddresses(socket: net.Socket): {
  remote: { address: string; port: number; family: 4 | 6 };
  local: { address: string; port: number };
} {
  const address = socket.remoteAddress ?? '';
  return {
    remote: { address, port: socket.remotePort ?? 0, family: net.isIPv6(address) ? 6 : 4 },
    local: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
  };
}
