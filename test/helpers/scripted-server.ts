/**
 * A tiny programmable SMTP peer for transcript tests: each connection runs a script that reads lines and
 * writes replies, can upgrade to TLS, misbehave on purpose (inject, stall, close), and records every byte.
 * This is for testing our client's reactions; real-peer interop lives in test/interop.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface ScriptedConnection {
  /** Writes raw text (add \r\n yourself, or use reply()). */
  write(text: string | Buffer): void;
  /** Writes one or more reply lines: reply(250, 'ok') or reply(250, ['a', 'b']). */
  reply(code: number, text: string | string[]): void;
  /** The usual opening: "220 name", reads the client's EHLO and answers "250 name" plus `extensions`. */
  greet(name: string, extensions: readonly string[]): Promise<void>;
  /** The next line without CRLF; rejects if the client closes first. */
  readLine(timeoutMs?: number): Promise<string>;
  /** Bytes up to and including `terminator`. */
  readUntil(terminator: string, timeoutMs?: number): Promise<Buffer>;
  /** Exactly n bytes. */
  readBytes(n: number, timeoutMs?: number): Promise<Buffer>;
  /** Upgrades to TLS as a server with the given certificate. */
  startTls(cert: string, key: string): Promise<void>;
  close(): void;
  destroy(): void;
  /** Everything the client sent, in order. */
  readonly received: Buffer[];
  readonly socket: Socket;
}

export interface ScriptedServer {
  readonly port: number;
  readonly connections: number;
  /** Errors thrown by scripts (a failed expectation), surfaced to the test. */
  readonly errors: unknown[];
  close(): Promise<void>;
}

export async function startScriptedServer(
  script: (conn: ScriptedConnection, index: number) => Promise<void>,
  options: { tls?: { cert: string; key: string } } = {},
): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const errors: unknown[] = [];
  let count = 0;
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    const index = count++;
    const run = async () => {
      let socket: Socket = raw;
      if (options.tls) {
        const secure = new TLSSocket(raw, { isServer: true, cert: options.tls.cert, key: options.tls.key });
        await once(secure, 'secure');
        socket = secure;
      }
      const conn = wrap(socket);
      await script(conn, index);
    };
    run().catch((err) => {
      if (!isClientGone(err)) errors.push(err);
      raw.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    get connections() {
      return count;
    },
    errors,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

class ClientGone extends Error {}
function isClientGone(err: unknown): boolean {
  return err instanceof ClientGone;
}

function wrap(initial: Socket): ScriptedConnection {
  let socket = initial;
  let buffer = Buffer.alloc(0);
  const received: Buffer[] = [];
  let notify: (() => void) | undefined;
  let ended = false;
  const onData = (chunk: Buffer) => {
    received.push(chunk);
    buffer = Buffer.concat([buffer, chunk]);
    notify?.();
  };
  const onEnd = () => {
    ended = true;
    notify?.();
  };
  const attach = (s: Socket) => {
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('close', onEnd);
    s.on('error', onEnd);
  };
  attach(socket);

  async function take(find: () => number, timeoutMs = 5_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = find();
      if (end >= 0) {
        const out = buffer.subarray(0, end);
        buffer = buffer.subarray(end);
        return out;
      }
      if (ended) throw new ClientGone('client closed the connection');
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`scripted server: timed out waiting; have ${JSON.stringify(buffer.toString())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        notify = () => {
          clearTimeout(t);
          resolve();
        };
      });
      notify = undefined;
    }
  }

  return {
    received,
    get socket() {
      return socket;
    },
    write(text) {
      socket.write(text);
    },
    reply(code, text) {
      const lines = Array.isArray(text) ? text : [text];
      socket.write(lines.map((l, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));
    },
    async greet(name, extensions) {
      this.reply(220, name);
      await this.readLine();
      this.reply(250, [name, ...extensions]);
    },
    async readLine(timeoutMs) {
      const line = await take(() => {
        const i = buffer.indexOf('\r\n');
        return i === -1 ? -1 : i + 2;
      }, timeoutMs);
      return line.subarray(0, line.length - 2).toString('utf8');
    },
    readUntil(terminator, timeoutMs) {
      return take(() => {
        const i = buffer.indexOf(terminator);
        return i === -1 ? -1 : i + terminator.length;
      }, timeoutMs);
    },
    readBytes(n, timeoutMs) {
      return take(() => (buffer.length >= n ? n : -1), timeoutMs);
    },
    async startTls(cert, key) {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
      buffer = Buffer.alloc(0);
      const secure = new TLSSocket(socket, { isServer: true, cert, key });
      attach(secure);
      socket = secure;
      await once(secure, 'secure');
    },
    close() {
      socket.end();
    },
    destroy() {
      socket.destroy();
    },
  };
}
