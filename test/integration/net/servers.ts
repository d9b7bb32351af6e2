/**
 * Small real servers on 127.0.0.1 for the net/ integration tests: TLS, plaintext, silent,
 * refused ports and a listener whose accept queue is full (connects to it time out).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

export interface Running {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

function track(server: net.Server, event: string): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on(event, (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  return sockets;
}

export interface TlsServer extends Running {
  /** Server-side sockets of completed handshakes, in order. */
  readonly accepted: tls.TLSSocket[];
}

/** A TLS server that completes handshakes and then keeps the connection open. */
export async function startTlsServer(options: tls.TlsOptions, host = '127.0.0.1'): Promise<TlsServer> {
  const accepted: tls.TLSSocket[] = [];
  const server = tls.createServer(options, (s) => {
    accepted.push(s);
  });
  server.on('tlsClientError', () => {}); // failing handshakes are what many tests are about
  const sockets = track(server, 'connection');
  const port = await listen(server, host);
  return { port, accepted, close: closer(server, sockets) };
}

/** A plaintext server; `onConnect` runs for each TCP connection (default: write an SMTP greeting). */
export async function startPlainServer(
  onConnect: (s: net.Socket) => void = (s) => s.write('220 hello\r\n'),
  host = '127.0.0.1',
): Promise<Running> {
  const server = net.createServer(onConnect);
  const sockets = track(server, 'connection');
  const port = await listen(server, host);
  return { port, close: closer(server, sockets) };
}

/** A port on which nothing listens (bound, then released). */
export async function refusedPort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  const port = await listen(server, host);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A listener whose accept queue is full, so further SYNs are dropped and connects hang until they time out —
 * the loopback stand-in for a firewalled port. Node always accepts, so a python3 child holds the socket with
 * listen(0) and never calls accept(); filler connections then fill the queue. Undefined when python3 is missing.
 */
export async function saturatedListener(): Promise<Running | undefined> {
  let child: ChildProcess;
  try {
    child = spawn(
      'python3',
      [
        '-c',
        [
          'import socket, sys',
          's = socket.socket()',
          "s.bind(('127.0.0.1', 0))",
          's.listen(0)',
          'print(s.getsockname()[1], flush=True)',
          'sys.stdin.read()',
        ].join('\n'),
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
  } catch {
    return undefined;
  }
  const port = await new Promise<number | undefined>((resolve) => {
    child.once('error', () => resolve(undefined));
    child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  if (!port) return undefined;
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      child.stdin?.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
