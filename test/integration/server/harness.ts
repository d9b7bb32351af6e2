/**
 * Test harness for the server: start one on 127.0.0.1:0 with test defaults, and a raw SMTP client that
 * writes exact bytes and reads replies, for transcript and hostile-input tests.
 */
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { MemoryStore } from '../../../src/server/index.js';
import type { SmtpServerOptions } from '../../../src/server/options.js';
import { type ListeningAddress, SmtpServer } from '../../../src/server/server.js';

export interface TestServer {
  readonly server: SmtpServer;
  readonly store: MemoryStore;
  readonly addresses: readonly ListeningAddress[];
  /** Port of endpoint `i` (default 0). */
  port(i?: number): number;
  /** The CA certificate that signed the server certificate (tls 'auto' without dataDir). */
  readonly ca: string;
  close(): Promise<void>;
}

export const FAST_LIMITS = { authFailureDelay: 5, handshakeTimeout: 3000 } as const;

/** Starts a server on 127.0.0.1:0 (STARTTLS by default) with a MemoryStore and hostname mx.test. */
export async function startServer(options: Partial<SmtpServerOptions> = {}): Promise<TestServer> {
  const store = (options.store as MemoryStore | undefined) ?? new MemoryStore();
  const server = new SmtpServer({
    endpoints: [{ port: 0, tls: 'starttls' }],
    hostname: 'mx.test',
    ...options,
    limits: { ...FAST_LIMITS, ...options.limits },
    store,
  });
  const addresses = await server.listen();
  return {
    server,
    store,
    addresses,
    port: (i = 0) => addresses[i]!.port,
    ca: server.caCertificate ?? '',
    close: () => server.close({ graceful: false }),
  };
}

export interface ParsedReply {
  readonly code: number;
  readonly lines: readonly string[];
  /** All lines joined with "\n". */
  readonly text: string;
}

/** A raw client: exact bytes out, replies in. */
export class RawClient {
  socket: net.Socket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  #closed = false;
  /** Everything received, in order. */
  received = '';

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.#listen(socket);
  }

  static async connect(
    port: number,
    o: { tls?: boolean; ca?: string; servername?: string } = {},
  ): Promise<RawClient> {
    if (o.tls) {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        ca: o.ca,
        servername: o.servername ?? 'localhost',
      });
      socket.on('error', () => {});
      await once(socket, 'secureConnect');
      return new RawClient(socket);
    }
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  #listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      this.#buffer += text;
      this.received += text;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes bytes; a string is taken as latin1, one byte per character, so tests can write any byte. */
  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next complete reply; rejects after `timeout` ms or when the connection closes first. */
  async reply(timeout = 5000): Promise<ParsedReply> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const parsed = this.#take();
      if (parsed) return parsed;
      if (this.#closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no reply within ${timeout} ms; unread: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a line (CRLF added, UTF-8) and returns the reply. */
  async command(line: string, timeout?: number): Promise<ParsedReply> {
    this.write(Buffer.from(`${line}\r\n`, 'utf8'));
    return this.reply(timeout);
  }

  /** Resolves when the server closed the connection (rejects after `timeout`). */
  async waitClosed(timeout = 5000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the server did not close the connection');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Upgrades to TLS after a 220 to STARTTLS. */
  async startTls(ca: string): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, ca, servername: 'localhost' });
    secure.on('error', () => {});
    await once(secure, 'secureConnect');
    this.socket = secure;
    this.#listen(secure);
  }

  /** Unread bytes (replies not yet taken). */
  get pending(): string {
    return this.#buffer;
  }

  #take(): ParsedReply | undefined {
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const end = this.#buffer.indexOf('\r\n', offset);
      if (end === -1) return undefined;
      const line = this.#buffer.slice(offset, end);
      offset = end + 2;
      lines.push(line.slice(4));
      if (line[3] !== '-') {
        this.#buffer = this.#buffer.slice(offset);
        return { code: Number(line.slice(0, 3)), lines, text: lines.join('\n') };
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Greeting, EHLO, STARTTLS, TLS, EHLO again. */
export async function openTls(port: number, ca: string): Promise<RawClient> {
  const client = await RawClient.connect(port);
  await client.reply();
  await client.command('EHLO client.test');
  const ready = await client.command('STARTTLS');
  if (ready.code !== 220) throw new Error(`STARTTLS refused: ${ready.code} ${ready.text}`);
  await client.startTls(ca);
  await client.command('EHLO client.test');
  return client;
}

/** A tiny credential store: alice / secret. */
export const testUsers = {
  async verifyPassword(user: string, password: { reveal(): string }): Promise<boolean> {
    return user === 'alice' && password.reveal() === 'secret';
  },
};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
