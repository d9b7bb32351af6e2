/**
 * A minimal, fast SMTP sink for benchmarks — a fixture, not product code. It accepts every command, stores
 * nothing and counts what it receives. It runs in its own process (started by sink-process.ts) so the client
 * under test keeps a core to itself and its CPU figure contains none of the server's work.
 *
 * Protocol with the parent: one JSON line on stdin ({ cert, key, listeners }), then `READY {name: port}` on
 * stdout. Afterwards each `stats` line on stdin is answered with `STATS {name: counters}`; stdin closing ends it.
 *
 * Listener modes:
 * - starttls / implicit / plain — SMTP with PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, AUTH PLAIN LOGIN
 *   (after TLS in starttls mode) and optionally CHUNKING. Pipelined commands are answered in order, all replies
 *   to one incoming chunk in a single write.
 * - discard — raw TLS throughput anchor: the client sends "SIZE n\r\n" and n bytes; the sink answers "OK n\r\n".
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  TLSSocket,
} from 'node:tls';

export type SinkMode = 'starttls' | 'implicit' | 'plain' | 'discard';

export interface SinkListener {
  readonly name: string;
  readonly mode: SinkMode;
  readonly chunking?: boolean;
}

export interface SinkConfig {
  readonly cert: string;
  readonly key: string;
  readonly listeners: readonly SinkListener[];
}

export interface SinkCounters {
  connections: number;
  tlsHandshakes: number;
  /** Handshakes that resumed an earlier TLS session (ticket), as the server saw them. */
  resumed: number;
  messages: number;
  /** Message bytes as received on the wire (DATA: dot-stuffed, without the final ".\r\n"; BDAT: chunk bytes). */
  bytes: number;
}

const TERMINATOR = Buffer.from('\r\n.\r\n');
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);
/** A command line longer than this means the peer is not speaking SMTP; the fixture hangs up. */
const MAX_LINE = 64 * 1024;
const MAX_SIZE = 200 * 1024 * 1024;

type Phase =
  | { readonly kind: 'command' }
  | { readonly kind: 'auth-plain' }
  | { readonly kind: 'auth-login-user' }
  | { readonly kind: 'auth-login-pass' }
  /** `tail`: the last ≤ 4 bytes seen, so a terminator split across chunks is still found. */
  | { readonly kind: 'data'; tail: Buffer; bytes: number }
  | { readonly kind: 'bdat'; remaining: number; readonly last: boolean };

let queueId = 0;

/** One SMTP connection: a byte-level state machine that never awaits between a command and its reply. */
class SinkSession {
  #socket: Socket;
  #secure: boolean;
  #pending = EMPTY;
  #phase: Phase = { kind: 'command' };
  #bdatBytes = 0;
  readonly #listener: SinkListener;
  readonly #counters: SinkCounters;
  readonly #context: SecureContext;
  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);

  constructor(
    socket: Socket,
    secure: boolean,
    listener: SinkListener,
    counters: SinkCounters,
    context: SecureContext,
  ) {
    this.#socket = socket;
    this.#secure = secure;
    this.#listener = listener;
    this.#counters = counters;
    this.#context = context;
    this.#attach(socket);
    socket.write('220 sink.example.test ESMTP bench sink\r\n');
  }

  #attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', () => socket.destroy());
  }

  #receive(chunk: Buffer): void {
    const out: string[] = [];
    let buf = chunk;
    if (this.#pending.length > 0) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = EMPTY;
    }
    let pos = 0;
    while (pos < buf.length) {
      const phase = this.#phase;
      if (phase.kind === 'data') {
        pos = this.#consumeData(phase, buf, pos, out);
      } else if (phase.kind === 'bdat') {
        const take = Math.min(phase.remaining, buf.length - pos);
        phase.remaining -= take;
        this.#bdatBytes += take;
        pos += take;
        if (phase.remaining === 0) this.#endBdat(phase.last, out);
      } else {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) {
          if (buf.length - pos > MAX_LINE) {
            this.#socket.destroy();
            return;
          }
          // Copy: a subarray would keep the whole chunk alive.
          this.#pending = Buffer.from(buf.subarray(pos));
          break;
        }
        const end = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl;
        const line = buf.toString('latin1', pos, end);
        pos = nl + 1;
        if (this.#line(line, out) === 'upgrade') {
          // Bytes after STARTTLS in the same chunk are dropped (RFC 3207 §4.2; no smuggling into TLS).
          this.#socket.write(out.join(''));
          this.#upgrade();
          return;
        }
      }
    }
    if (out.length > 0) this.#socket.write(out.length === 1 ? out[0]! : out.join(''));
  }

  /** Scans for CRLF.CRLF from `pos`; returns where reading continues. */
  #consumeData(phase: { tail: Buffer; bytes: number }, buf: Buffer, pos: number, out: string[]): number {
    let end = -1;
    // A terminator that starts in the previous chunk ends within the first four bytes of this one.
    const head = Buffer.concat([phase.tail, buf.subarray(pos, pos + 4)]);
    const split = head.indexOf(TERMINATOR);
    if (split >= 0) end = pos + split + TERMINATOR.length - phase.tail.length;
    else {
      const at = buf.indexOf(TERMINATOR, pos);
      if (at >= 0) end = at + TERMINATOR.length;
    }
    if (end < 0) {
      phase.bytes += buf.length - pos;
      phase.tail =
        buf.length - pos >= 4
          ? Buffer.from(buf.subarray(buf.length - 4))
          : Buffer.concat([phase.tail, buf.subarray(pos)]).subarray(-4);
      return buf.length;
    }
    phase.bytes += end - pos;
    this.#counters.messages++;
    this.#counters.bytes += Math.max(0, phase.bytes - 3);
    out.push(`250 2.0.0 Ok: queued as ${++queueId}\r\n`);
    this.#phase = { kind: 'command' };
    return end;
  }

  #endBdat(last: boolean, out: string[]): void {
    this.#phase = { kind: 'command' };
    if (!last) {
      out.push('250 2.0.0 Ok: chunk received\r\n');
      return;
    }
    this.#counters.messages++;
    this.#counters.bytes += this.#bdatBytes;
    this.#bdatBytes = 0;
    out.push(`250 2.0.0 Ok: queued as ${++queueId}\r\n`);
  }

  #line(line: string, out: string[]): 'upgrade' | undefined {
    const phase = this.#phase.kind;
    if (phase === 'auth-plain' || phase === 'auth-login-pass') {
      this.#phase = { kind: 'command' };
      out.push('235 2.7.0 Authentication successful\r\n');
      return;
    }
    if (phase === 'auth-login-user') {
      this.#phase = { kind: 'auth-login-pass' };
      out.push('334 UGFzc3dvcmQ6\r\n');
      return;
    }
    const space = line.indexOf(' ');
    const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const arg = space < 0 ? '' : line.slice(space + 1);
    switch (verb) {
      case 'EHLO':
        out.push(this.#ehlo());
        return;
      case 'HELO':
        out.push('250 sink.example.test\r\n');
        return;
      case 'STARTTLS':
        if (this.#secure || this.#listener.mode !== 'starttls') {
          out.push('503 5.5.1 TLS already active or not offered\r\n');
          return;
        }
        out.push('220 2.0.0 Ready to start TLS\r\n');
        return 'upgrade';
      case 'AUTH':
        out.push(this.#auth(arg));
        return;
      case 'MAIL':
        out.push('250 2.1.0 Ok\r\n');
        return;
      case 'RCPT':
        out.push('250 2.1.5 Ok\r\n');
        return;
      case 'DATA':
        this.#phase = { kind: 'data', tail: CRLF, bytes: 0 };
        out.push('354 End data with <CR><LF>.<CR><LF>\r\n');
        return;
      case 'BDAT':
        out.push(...this.#bdat(arg));
        return;
      case 'RSET':
      case 'NOOP':
        this.#bdatBytes = 0;
        out.push('250 2.0.0 Ok\r\n');
        return;
      case 'QUIT':
        out.push('221 2.0.0 Bye\r\n');
        this.#socket.end(out.join(''));
        out.length = 0;
        this.#socket.removeListener('data', this.#onData);
        return;
      default:
        out.push('502 5.5.2 Error: command not recognized\r\n');
    }
  }

  #ehlo(): string {
    const lines = ['sink.example.test', 'PIPELINING', `SIZE ${MAX_SIZE}`, '8BITMIME', 'ENHANCEDSTATUSCODES'];
    if (this.#listener.chunking) lines.push('CHUNKING');
    if (this.#secure || this.#listener.mode === 'plain') lines.push('AUTH PLAIN LOGIN');
    else lines.push('STARTTLS');
    return lines.map((text, i) => `250${i === lines.length - 1 ? ' ' : '-'}${text}\r\n`).join('');
  }

  #auth(arg: string): string {
    const [mechanism = '', initial] = arg.split(' ');
    switch (mechanism.toUpperCase()) {
      case 'PLAIN':
        if (initial !== undefined) return '235 2.7.0 Authentication successful\r\n';
        this.#phase = { kind: 'auth-plain' };
        return '334 \r\n';
      case 'LOGIN':
        this.#phase = { kind: initial !== undefined ? 'auth-login-pass' : 'auth-login-user' };
        return initial !== undefined ? '334 UGFzc3dvcmQ6\r\n' : '334 VXNlcm5hbWU6\r\n';
      default:
        return '504 5.5.4 Unrecognized authentication type\r\n';
    }
  }

  #bdat(arg: string): string[] {
    const [size = '', last] = arg.split(' ');
    const remaining = Number(size);
    if (!/^\d+$/.test(size)) return ['501 5.5.4 Syntax: BDAT size [LAST]\r\n'];
    const isLast = last?.toUpperCase() === 'LAST';
    if (remaining > 0) {
      this.#phase = { kind: 'bdat', remaining, last: isLast };
      return [];
    }
    const out: string[] = [];
    this.#endBdat(isLast, out);
    return out;
  }

  #upgrade(): void {
    const raw = this.#socket;
    raw.removeListener('data', this.#onData);
    this.#pending = EMPTY;
    this.#phase = { kind: 'command' };
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.#context });
    secure.once('secure', () => {
      this.#counters.tlsHandshakes++;
      if (secure.isSessionReused()) this.#counters.resumed++;
    });
    this.#socket = secure;
    this.#secure = true;
    this.#attach(secure);
  }
}

/** Raw TLS anchor: reads "SIZE n\r\n", discards n bytes, answers "OK n\r\n". */
function discard(socket: Socket, counters: SinkCounters): void {
  let header = '';
  let remaining = -1;
  let received = 0;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    let body = chunk;
    if (remaining < 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        header += chunk.toString('latin1');
        return;
      }
      header += chunk.toString('latin1', 0, nl);
      remaining = Number(header.replace(/^SIZE\s+/i, '').trim());
      body = chunk.subarray(nl + 1);
    }
    remaining -= body.length;
    received += body.length;
    counters.bytes += body.length;
    if (remaining <= 0) {
      counters.messages++;
      socket.write(`OK ${received}\r\n`);
      header = '';
      remaining = -1;
      received = 0;
    }
  });
}

function newCounters(): SinkCounters {
  return { connections: 0, tlsHandshakes: 0, resumed: 0, messages: 0, bytes: 0 };
}

function listen(
  listener: SinkListener,
  config: SinkConfig,
  context: SecureContext,
  counters: SinkCounters,
): Server {
  const onTls = (socket: TLSSocket): void => {
    counters.connections++;
    counters.tlsHandshakes++;
    if (socket.isSessionReused()) counters.resumed++;
    if (listener.mode === 'discard') discard(socket, counters);
    else new SinkSession(socket, true, listener, counters, context);
  };
  if (listener.mode === 'implicit' || listener.mode === 'discard') {
    // Session tickets are on by default for a tls.Server; resumption is counted in `resumed`.
    const server = createTlsServer({ cert: config.cert, key: config.key }, onTls);
    server.on('tlsClientError', () => {});
    return server;
  }
  return createNetServer((socket) => {
    counters.connections++;
    new SinkSession(socket, false, listener, counters, context);
  });
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  const counters = new Map<string, SinkCounters>();
  let started = false;
  for await (const line of lines) {
    if (!started) {
      started = true;
      const config = JSON.parse(line) as SinkConfig;
      // STARTTLS upgrades share one context (and so its session-ticket keys) across connections.
      const context = createSecureContext({ cert: config.cert, key: config.key });
      const ports: Record<string, number> = {};
      for (const listener of config.listeners) {
        const c = newCounters();
        counters.set(listener.name, c);
        const server = listen(listener, config, context, c);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const address = server.address();
        ports[listener.name] = typeof address === 'object' && address ? address.port : 0;
      }
      process.stdout.write(`READY ${JSON.stringify(ports)}\n`);
    } else if (line.trim() === 'stats') {
      process.stdout.write(`STATS ${JSON.stringify(Object.fromEntries(counters))}\n`);
    }
  }
  // The parent closed stdin: it is done with us.
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`sink: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
