/**
 * The first two questions of `postern doctor` about a port: does anything answer (refused = closed, no answer =
 * filtered), and what does it speak — an SMTP greeting in plaintext, TLS in reply to a ClientHello, or nothing.
 */
import type { Socket } from 'node:net';
import { isPosternError, type PosternError } from '../../core/index.js';
import { connectTcp, type ResolvedAddress, startTls } from '../../net/index.js';

/** What came back on a fresh connection. */
export type Spoken =
  /** A plaintext reply line ("220 mail.example.com ESMTP", or a refusal such as "554 …"). */
  | { readonly kind: 'smtp'; readonly greeting: string }
  /** A TLS handshake completed, or the server answered the ClientHello with a TLS alert (`refused`). */
  | { readonly kind: 'tls'; readonly version?: string | undefined; readonly refused?: string | undefined }
  /** Something that is neither SMTP nor TLS (an HTTP or SSH banner, …). */
  | { readonly kind: 'other'; readonly sample: string }
  /** No greeting and no answer to a ClientHello. */
  | { readonly kind: 'silent' }
  /** The server closed the connection without a word. */
  | { readonly kind: 'closed' };

export interface PortOptions {
  readonly host: string;
  readonly port: number;
  /** Milliseconds per step. */
  readonly timeout: number;
  readonly signal?: AbortSignal | undefined;
  readonly lookup?: ((host: string) => Promise<readonly ResolvedAddress[]>) | undefined;
}

/** How long a port is given to greet before it is asked for TLS instead. */
const GREETING_WAIT = 3_000;

/** Enough of a greeting to judge it: bytes beyond this without a line end are not waited for. */
const LINE_MAX = 1_024;

/** How much of a greeting the report shows; a server may send kilobytes on one line. */
const GREETING_SHOWN = 200;

/** A TCP connection, or the error that says why there is none (ECONNREFUSED, ECONNECT_TIMEOUT, …). */
export async function openPort(o: PortOptions): Promise<{ socket: Socket; address: string } | PosternError> {
  try {
    const { socket, address } = await connectTcp({
      host: o.host,
      port: o.port,
      connectTimeout: o.timeout,
      signal: o.signal,
      lookup: o.lookup,
    });
    return { socket, address };
  } catch (err) {
    if (isPosternError(err)) return err;
    throw err;
  }
}

/**
 * The first line the server sends on its own (up to LF, or LINE_MAX bytes), put back together when it comes in
 * pieces; what came when it stops (no more for `wait` ms, or it hangs up); null after `wait` ms of silence;
 * 'closed' when it hangs up without a byte.
 */
function firstLine(socket: Socket, wait: number): Promise<Buffer | null | 'closed'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sofar = () => Buffer.concat(chunks, size);
    const done = (value: Buffer | null | 'closed') => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a) || size >= LINE_MAX) return done(sofar());
      // The rest of the line gets its own wait, counted from the first piece.
      if (chunks.length === 1) {
        clearTimeout(timer);
        timer = setTimeout(() => done(sofar()), wait);
      }
    };
    const onClose = () => done(size > 0 ? sofar() : 'closed');
    let timer = setTimeout(() => done(null), wait);
    socket.on('error', () => {});
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** A greeting line, at most GREETING_SHOWN characters; server text, so it is made safe where it is shown. */
function fromBytes(bytes: Buffer): Spoken {
  const text = bytes.toString('utf8');
  const line = text.split(/\r?\n/)[0]!.trimEnd();
  if (/^[2-5]\d\d(?:[ -]|$)/.test(line)) {
    if (line.length <= GREETING_SHOWN) return { kind: 'smtp', greeting: line };
    const length = `${text.includes('\n') ? '' : 'at least '}${line.length} characters`;
    return { kind: 'smtp', greeting: `${line.slice(0, GREETING_SHOWN)}… (${length})` };
  }
  return { kind: 'other', sample: bytes.subarray(0, 60).toString('latin1') };
}

/** Sends a ClientHello on `socket` (any version, any certificate) and reads what comes back. */
async function tryTls(socket: Socket, o: PortOptions): Promise<Spoken | 'plaintext'> {
  try {
    const secure = await startTls(socket, {
      host: o.host,
      port: o.port,
      tls: { insecureSkipVerify: true, allowLegacyTls: true },
      handshakeTimeout: o.timeout,
      phase: 'tls',
      signal: o.signal,
    });
    const version = secure.getProtocol() ?? undefined;
    secure.destroy();
    return { kind: 'tls', version };
  } catch (err) {
    if (!isPosternError(err)) throw err;
    switch (err.code) {
      case 'ETLS_PLAINTEXT_PORT':
        return 'plaintext';
      case 'ETIMEOUT':
        return { kind: 'silent' };
      case 'ECONNECTION':
        return { kind: 'closed' };
      default:
        // A TLS alert or a handshake failure is an answer in TLS.
        return { kind: 'tls', refused: err.message.split(' — ')[0] };
    }
  }
}

/**
 * What the port speaks. `tlsFirst` sends a ClientHello at once (for implicit-TLS ports, which wait for it);
 * otherwise the server is first given a few seconds to greet. Uses and closes `socket`; may open one more.
 */
export async function sniffPort(
  socket: Socket,
  o: PortOptions & { readonly tlsFirst: boolean },
): Promise<Spoken> {
  const wait = Math.min(o.timeout, GREETING_WAIT);
  if (!o.tlsFirst) {
    const first = await firstLine(socket, wait);
    if (first === 'closed') return { kind: 'closed' };
    if (first !== null) {
      socket.destroy();
      return fromBytes(first);
    }
    const answer = await tryTls(socket, o);
    return answer === 'plaintext' ? { kind: 'other', sample: '(a reply that is not TLS)' } : answer;
  }
  const answer = await tryTls(socket, o);
  if (answer !== 'plaintext') return answer;
  // The server greeted in plaintext over our ClientHello: a fresh connection reads the greeting itself.
  const again = await openPort(o);
  if (!('socket' in again)) return { kind: 'smtp', greeting: '(plaintext)' };
  const bytes = await firstLine(again.socket, wait);
  again.socket.destroy();
  return bytes instanceof Buffer ? fromBytes(bytes) : { kind: 'smtp', greeting: '(plaintext)' };
}
