/**
 * Deliberately broken tiny SMTP servers for the audit tests, on 127.0.0.1 with a free port and the test PKI's
 * certificate. Each flaw is one well-known server bug, switched on by name:
 *
 * - 'starttls-injection': commands received in the same packet as STARTTLS are kept and answered inside TLS
 *   (CVE-2011-0411 class; a correct server throws them away or refuses them).
 * - 'bare-lf-end-of-data': a "." line ends DATA whatever ends its lines, so "\n.\n" and "\n.\r\n" end the
 *   message (SMTP smuggling); a correct server only accepts CRLF.CRLF.
 * - 'auth-before-tls': AUTH PLAIN/LOGIN offered and processed in plaintext (535 for every credential).
 * - 'open-relay': RCPT accepted for any domain (otherwise only "user@vulnerable.test").
 *
 * And hostile behaviours, for "never hang, typed errors" tests: 'silent' (never greets), 'garbage' (a greeting
 * that is not SMTP), 'close-after-greeting', 'close-after-ehlo', 'stall-after-starttls' (220, then no
 * handshake), 'close-after-starttls' (220, then the connection closes), 'silent-in-tls' (the handshake
 * completes, then no reply inside TLS), 'reject-greeting' (554 and close), 'rcpt-421' (every RCPT gets "421
 * too many errors" and the connection closes), 'close-after-rcpt' (the RCPT reply, then the connection
 * closes) and 'escape-in-ehlo' (AUTH offered before and after TLS, with an ANSI escape among the mechanisms).
 *
 * Without flaws the server is a plain, correct little SMTP server (STARTTLS, AUTH only under TLS, VRFY 252,
 * EXPN 502), so each flaw is tested against an otherwise clean target.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { testPki } from './certs.js';

export type SmtpFlaw = 'starttls-injection' | 'bare-lf-end-of-data' | 'auth-before-tls' | 'open-relay';
export type HostileBehaviour =
  | 'silent'
  | 'garbage'
  | 'close-after-greeting'
  | 'close-after-ehlo'
  | 'stall-after-starttls'
  | 'close-after-starttls'
  | 'silent-in-tls'
  | 'reject-greeting'
  | 'rcpt-421'
  | 'close-after-rcpt'
  | 'escape-in-ehlo';

export interface VulnerableSmtpOptions {
  readonly flaws?: readonly SmtpFlaw[];
  readonly hostile?: HostileBehaviour;
  /** TLS from the first byte (port-465 style) instead of STARTTLS. */
  readonly implicitTls?: boolean;
}

export interface VulnerableSmtp {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Messages accepted (DATA contents without the terminator), in order. */
  readonly messages: string[];
  /** Connections accepted so far. */
  readonly connections: number;
  stop(): Promise<void>;
}

/** The server's name, and the one domain it takes mail for. */
export const VULNERABLE_DOMAIN = 'vulnerable.test';
const NAME = VULNERABLE_DOMAIN;

/** Starts one server with the given flaws (or hostile behaviour). */
export async function startVulnerableSmtp(opts: VulnerableSmtpOptions = {}): Promise<VulnerableSmtp> {
  const pki = await testPki();
  const flaws = new Set(opts.flaws ?? []);
  const messages: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((raw) => {
    connections++;
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    const conn = new Connection(raw, {
      flaws,
      hostile: opts.hostile,
      cert: pki.serverCert,
      key: pki.serverKey,
      messages,
    });
    if (opts.implicitTls) conn.startImplicitTls();
    else conn.startPlain();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  server.unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    messages,
    get connections() {
      return connections;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

interface ConnectionOptions {
  readonly flaws: ReadonlySet<SmtpFlaw>;
  readonly hostile: HostileBehaviour | undefined;
  readonly cert: string;
  readonly key: string;
  readonly messages: string[];
}

class Connection {
  #socket: Socket;
  #o: ConnectionOptions;
  #tls = false;
  #mode: 'command' | 'data' | 'handshake' = 'command';
  #buffer = '';
  #onData = (chunk: Buffer) => {
    this.#buffer += chunk.toString('latin1');
    this.#process();
  };

  constructor(socket: Socket, o: ConnectionOptions) {
    this.#socket = socket;
    this.#o = o;
  }

  greet(): void {
    const hostile = this.#o.hostile;
    if (hostile === 'silent') return; // connected, never a word
    if (hostile === 'garbage') {
      this.#socket.write('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    if (hostile === 'reject-greeting') {
      this.#socket.end('554 5.7.1 no service for you\r\n');
      return;
    }
    this.#write(`220 ${NAME} ESMTP vulnerable test server\r\n`);
    if (hostile === 'close-after-greeting') this.#socket.destroy();
  }

  startPlain(): void {
    this.#socket.on('data', this.#onData);
    this.greet();
  }

  startImplicitTls(): void {
    this.#upgrade('', () => this.greet());
  }

  #write(text: string): void {
    if (!this.#socket.destroyed) this.#socket.write(Buffer.from(text, 'latin1'));
  }

  #process(): void {
    while (this.#mode !== 'handshake') {
      if (this.#mode === 'data') {
        if (!this.#takeMessage()) return;
        continue;
      }
      const lf = this.#buffer.indexOf('\n');
      if (lf === -1) return;
      const line = this.#buffer.slice(0, lf).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(lf + 1);
      this.#command(line);
    }
  }

  /** Ends DATA at the terminator; returns false while the message is incomplete. */
  #takeMessage(): boolean {
    // A virtual CRLF before the data lets a message that is only "." end at once.
    const text = `\r\n${this.#buffer}`;
    const m = this.#o.flaws.has('bare-lf-end-of-data') ? /\n\.\r?\n/.exec(text) : /\r\n\.\r\n/.exec(text);
    if (!m) return false;
    this.#o.messages.push(text.slice(2, m.index).replace(/\r$/, ''));
    this.#buffer = text.slice(m.index + m[0].length);
    this.#mode = 'command';
    this.#write(`250 2.0.0 queued as ${this.#o.messages.length}\r\n`);
    return true;
  }

  #command(line: string): void {
    const [verb = '', ...rest] = line.split(' ');
    const reply = this.#answer(verb.toUpperCase(), rest.join(' '));
    if (reply !== undefined) this.#write(reply);
  }

  /** The reply to one command (undefined when the handler wrote its own). */
  #answer(verb: string, arg: string): string | undefined {
    switch (verb) {
      case 'EHLO':
        this.#ehlo();
        return undefined;
      case 'HELO':
        return `250 ${NAME}\r\n`;
      case 'STARTTLS':
        this.#starttls();
        return undefined;
      case 'AUTH':
        return this.#auth(arg);
      case 'MAIL':
        return '250 2.1.0 Ok\r\n';
      case 'RCPT':
        return this.#rcpt(arg);
      case 'DATA':
        this.#mode = 'data';
        return '354 End data with <CR><LF>.<CR><LF>\r\n';
      case 'RSET':
      case 'NOOP':
        return '250 2.0.0 Ok\r\n';
      case 'VRFY':
        return '252 2.5.0 Cannot VRFY user\r\n';
      case 'EXPN':
        return '502 5.5.1 EXPN not available\r\n';
      case 'QUIT':
        this.#write('221 2.0.0 Bye\r\n');
        this.#socket.end();
        return undefined;
      default:
        return '500 5.5.2 Unknown command\r\n';
    }
  }

  #ehlo(): void {
    const escaped = this.#o.hostile === 'escape-in-ehlo';
    const authHere = this.#tls || this.#o.flaws.has('auth-before-tls') || escaped;
    const lines = [
      NAME,
      'PIPELINING',
      'SIZE 1000000',
      ...(this.#tls ? [] : ['STARTTLS']),
      ...(authHere ? [escaped ? 'AUTH PLAIN \x1b[2J\x1b]0;PWNED\x07LOGIN' : 'AUTH PLAIN LOGIN'] : []),
      '8BITMIME',
    ];
    this.#write(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));
    if (this.#o.hostile === 'close-after-ehlo') this.#socket.destroy();
  }

  #rcpt(arg: string): string | undefined {
    if (this.#o.hostile === 'rcpt-421') {
      this.#socket.end('421 4.7.0 vulnerable.test Error: too many errors\r\n');
      return undefined;
    }
    const local = /^TO:<[^@<>"%!:]+@vulnerable\.test>$/i.test(arg);
    const reply =
      local || this.#o.flaws.has('open-relay') ? '250 2.1.5 Ok\r\n' : '554 5.7.1 Relay access denied\r\n';
    if (this.#o.hostile !== 'close-after-rcpt') return reply;
    this.#socket.end(reply);
    return undefined;
  }

  #auth(arg: string): string {
    if (!this.#tls && !this.#o.flaws.has('auth-before-tls')) {
      return '538 5.7.11 Encryption required for requested authentication mechanism\r\n';
    }
    // Every credential is wrong here; what matters is that it was looked at.
    if (/^(PLAIN|LOGIN)\b/i.test(arg)) return '535 5.7.8 Authentication credentials invalid\r\n';
    return '504 5.5.4 Unrecognized authentication type\r\n';
  }

  #starttls(): void {
    if (this.#tls) {
      this.#write('503 5.5.1 TLS already active\r\n');
      return;
    }
    this.#write('220 2.0.0 Ready to start TLS\r\n');
    if (this.#o.hostile === 'close-after-starttls') {
      this.#mode = 'handshake';
      this.#socket.destroy();
      return;
    }
    if (this.#o.hostile === 'stall-after-starttls') {
      // Takes the handshake bytes and never answers them.
      this.#mode = 'handshake';
      this.#socket.off('data', this.#onData);
      this.#socket.on('data', () => undefined);
      return;
    }
    // The flaw: whatever came with STARTTLS is carried into the TLS session and read as commands there.
    const carried = this.#o.flaws.has('starttls-injection') ? this.#buffer : '';
    this.#upgrade(carried, () => undefined);
  }

  #upgrade(carried: string, then: () => void): void {
    this.#mode = 'handshake';
    this.#buffer = '';
    this.#socket.off('data', this.#onData);
    const secure = new TLSSocket(this.#socket, { isServer: true, cert: this.#o.cert, key: this.#o.key });
    secure.on('error', () => undefined);
    secure.once('secure', () => {
      this.#socket = secure;
      this.#tls = true;
      if (this.#o.hostile === 'silent-in-tls') {
        // Takes every command inside TLS and never answers one.
        secure.on('data', () => undefined);
        return;
      }
      this.#mode = 'command';
      this.#buffer = carried;
      then();
      secure.on('data', this.#onData);
      this.#process();
    });
  }
}
