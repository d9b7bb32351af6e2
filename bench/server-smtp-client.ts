/**
 * The load generator's SMTP client for the server benchmark: a raw socket speaking just enough SMTP to push
 * messages as fast as RFC 2920 allows — a fixture, not product code, and deliberately neither Postern's client
 * nor nodemailer, so the load costs the same whatever server is measured.
 *
 * Per message it writes one buffer: the previous message's body and ".", then the next MAIL, RCPT and DATA
 * (pipelining allows the message content to open a group), and waits for the four replies — one round trip
 * per message, the least a DATA transaction can take, since the body must wait for the 354.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type SecureContext, type TLSSocket } from 'node:tls';

const FROM = 'sender@example.test';
const TO = 'rcpt@example.test';
const ENVELOPE = `MAIL FROM:<${FROM}>\r\nRCPT TO:<${TO}>\r\nDATA\r\n`;
const END_OF_DATA = '.\r\n';

interface Reply {
  readonly code: number;
  readonly text: string;
}

/** What the benchmark learns about the TLS session, to show that both servers negotiated the same. */
export interface TlsSummary {
  readonly version: string;
  readonly cipher: string;
}

export class RawSmtpClient {
  readonly #socket: TLSSocket;
  readonly #reader: ReplyReader;

  private constructor(socket: TLSSocket, reader: ReplyReader) {
    this.#socket = socket;
    this.#reader = reader;
  }

  /** Connects, reads the greeting, EHLO, STARTTLS, EHLO again: ready for MAIL. */
  static async open(port: number, context: SecureContext): Promise<RawSmtpClient> {
    const raw = connectTcp({ host: '127.0.0.1', port });
    raw.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', resolve);
      raw.once('error', reject);
    });
    const plain = new ReplyReader(raw);
    await plain.expect(220);
    raw.write('EHLO load.example.test\r\n');
    const ehlo = await plain.expect(250);
    if (!/STARTTLS/i.test(ehlo.text)) throw new Error('the server does not offer STARTTLS');
    raw.write('STARTTLS\r\n');
    await plain.expect(220);
    plain.detach();
    const secure = connectTls({ socket: raw, secureContext: context, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    const reader = new ReplyReader(secure);
    secure.write('EHLO load.example.test\r\n');
    await reader.expect(250);
    return new RawSmtpClient(secure, reader);
  }

  get tls(): TlsSummary {
    return {
      version: this.#socket.getProtocol() ?? 'unknown',
      cipher: this.#socket.getCipher()?.standardName ?? 'unknown',
    };
  }

  /**
   * Sends `count` copies of `message` (CRLF lines, no line starting with "."), pipelined one round trip per
   * message; resolves once the last one is accepted.
   */
  sendMany(message: Buffer, count: number): Promise<void> {
    if (count <= 0) return Promise.resolve();
    const eod = Buffer.from(END_OF_DATA);
    const first = Buffer.from(ENVELOPE);
    const middle = Buffer.concat([message, eod, first]);
    const last = Buffer.concat([message, eod]);
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      let accepted = 0;
      // Replies still due for the group in flight, and whether the next one is the end of data's.
      let due = 3;
      let eodFirst = false;
      this.#reader.onReply = (code, line) => {
        const want = eodFirst ? 250 : due === 1 ? 354 : 250;
        if (code !== want) {
          reject(new Error(`expected ${want}, got ${line()}`));
          return;
        }
        if (eodFirst) {
          eodFirst = false;
          accepted++;
          if (accepted === count) {
            this.#reader.onReply = undefined;
            resolve();
            return;
          }
        } else {
          due--;
        }
        if (due > 0) return;
        // The group is answered: 354 came, so the body goes out, with the next envelope behind it.
        eodFirst = true;
        if (accepted + 1 === count) {
          due = 0;
          socket.write(last);
        } else {
          due = 3;
          socket.write(middle);
        }
      };
      this.#reader.onError = reject;
      socket.write(first);
    });
  }

  /**
   * One message of `chunks` × `chunk` bytes (plus nothing else: the chunk is a run of whole CRLF lines),
   * written with backpressure. Resolves with the seconds from the first body byte to the 250.
   */
  async sendLarge(chunk: Buffer, chunks: number): Promise<number> {
    const socket = this.#socket;
    socket.write(ENVELOPE);
    await this.#reader.expect(250);
    await this.#reader.expect(250);
    await this.#reader.expect(354);
    const start = process.hrtime.bigint();
    for (let i = 0; i < chunks; i++) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    socket.write(END_OF_DATA);
    await this.#reader.expect(250);
    return Number(process.hrtime.bigint() - start) / 1e9;
  }

  async quit(): Promise<void> {
    this.#socket.write('QUIT\r\n');
    await this.#reader.expect(221).catch(() => undefined);
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/**
 * Reads SMTP replies off a socket: either one awaited at a time, or each handed to `onReply` as it comes.
 * Lines are scanned as bytes; the fast path (onReply) makes no string unless a reply is unexpected.
 */
class ReplyReader {
  readonly #socket: Socket;
  #pending: Buffer = Buffer.alloc(0);
  #lines: string[] = [];
  readonly #ready: Reply[] = [];
  #waiter: ((reply: Reply) => void) | undefined;
  /** The fast path: the reply code, and its last line on demand. */
  onReply: ((code: number, line: () => string) => void) | undefined;
  onError: ((error: Error) => void) | undefined;
  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);
  readonly #onClose = (): void => {
    this.onError?.(new Error('the server closed the connection'));
  };

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
    socket.on('error', (error) => this.onError?.(error));
  }

  detach(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('close', this.#onClose);
  }

  /** The next reply, which must have code `code`. */
  async expect(code: number): Promise<Reply> {
    const reply =
      this.#ready.shift() ??
      (await new Promise<Reply>((resolve, reject) => {
        this.#waiter = resolve;
        this.onError = reject;
      }));
    if (reply.code !== code) throw new Error(`expected ${code}, got ${reply.code} ${reply.text}`);
    return reply;
  }

  #receive(chunk: Buffer): void {
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      const from = start;
      const to = nl > from && buf[nl - 1] === 13 ? nl - 1 : nl;
      start = nl + 1;
      const line = () => buf.toString('latin1', from, to);
      // "250-…" continues a reply, "250 …" (or a bare "250") ends it.
      if (to - from > 3 && buf[from + 3] === 45) {
        if (!this.onReply) this.#lines.push(line());
        continue;
      }
      const code = (buf[from]! - 48) * 100 + (buf[from + 1]! - 48) * 10 + (buf[from + 2]! - 48);
      if (this.onReply) {
        this.onReply(code, line);
        continue;
      }
      this.#lines.push(line());
      const reply = { code, text: this.#lines.join('\n') };
      this.#lines = [];
      const waiter = this.#waiter;
      if (waiter) {
        this.#waiter = undefined;
        waiter(reply);
      } else {
        this.#ready.push(reply);
      }
    }
    // Copied: a view would keep the whole chunk alive.
    this.#pending = start < buf.length ? Buffer.from(buf.subarray(start)) : Buffer.alloc(0);
  }
}
