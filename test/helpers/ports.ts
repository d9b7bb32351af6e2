/** Free loopback ports and waiting for a listener. */
import { readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';

// Ports handed out by this process, so two peers started by one test never get the same one.
const handedOut = new Set<number>();

function listenOnZero(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port on `host` that was free a moment ago (listen on 0, read it, close). Another process can still
 * take it before the peer binds it, so harnesses that bind pre-chosen ports retry on "address in use".
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnZero(host);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port found on ${host}`);
}

function tryConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/** Resolves once a TCP connection to host:port succeeds; rejects after `timeoutMs`. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (true) {
    if (await tryConnect(port, host)) return;
    if (Date.now() >= deadline)
      throw new Error(`waitForPort: nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * True when a TCP socket listens on 127.0.0.1:port or 0.0.0.0:port, read from /proc/net/tcp without
 * connecting (a probe connection shows up in the peer's log); undefined where /proc is unavailable.
 */
async function listeningInProc(port: number, host: string): Promise<boolean | undefined> {
  if (host !== '127.0.0.1') return undefined;
  let table: string;
  try {
    table = await readFile('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const wanted = new Set([`0100007F:${hexPort}`, `00000000:${hexPort}`]);
  return table.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f[3] === '0A' && wanted.has(f[1] ?? '');
  });
}

/**
 * Like `waitForPort`, but on Linux it checks for a listening socket without connecting to it, so the
 * peer does not log a "lost connection" from the probe. Falls back to connecting elsewhere.
 */
export async function waitForListening(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const listening = await listeningInProc(port, host);
    if (listening === undefined) return waitForPort(port, host, Math.max(0, deadline - Date.now()));
    if (listening) return;
    if (Date.now() >= deadline)
      throw new Error(`waitForListening: nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
