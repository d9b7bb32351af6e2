/**
 * What a port speaks: an SMTP greeting in plaintext (→ STARTTLS), TLS from the first byte (→ implicit, 465-style),
 * or neither. Port 465 is tried as TLS first; anything else waits for a greeting first.
 */
import { ConnectionError } from '../core/index.js';
import { startTls } from '../net/index.js';
import { DEFAULT_AUDIT_TIMEOUT, openTcp, targetLabel } from './connect.js';
import { terminalSafe } from './render-text.js';
import type { AuditTlsMode } from './types.js';

export interface Detected {
  readonly mode: AuditTlsMode;
  /** The first line the server sent in plaintext (STARTTLS ports). */
  readonly greeting?: string | undefined;
}

/** How long a silent port is given to greet before a TLS handshake is tried alongside. */
const GREETING_WAIT = 750;

/** Enough of a greeting to judge it: bytes beyond this without a line end are not waited for. */
const GREETING_MAX = 512;

interface Listening {
  /**
   * The first line the server sends (up to LF, or GREETING_MAX bytes), or what came before it closed or the
   * wait ended; null when it sent nothing. A greeting split across TCP segments is put back together.
   */
  readonly bytes: Promise<Buffer | null>;
  /** Whether any byte has arrived yet. */
  heard(): boolean;
  /** Stops listening (the promise resolves with what came so far). */
  cancel(): void;
}

async function listenForGreeting(
  host: string,
  port: number,
  timeout: number,
  wait: number,
): Promise<Listening> {
  const socket = await openTcp({ host, port, mode: 'starttls', timeout });
  const chunks: Buffer[] = [];
  let size = 0;
  const sofar = () => (size > 0 ? Buffer.concat(chunks, size) : null);
  let done: (value: Buffer | null) => void = () => undefined;
  const bytes = new Promise<Buffer | null>((resolve) => {
    done = (value) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a) || size >= GREETING_MAX) done(sofar());
    });
    socket.once('error', () => done(sofar()));
    socket.once('close', () => done(sofar()));
  });
  const timer = setTimeout(() => done(sofar()), wait);
  return { bytes, heard: () => size > 0, cancel: () => done(sofar()) };
}

async function speaksTls(host: string, port: number, timeout: number): Promise<boolean> {
  const socket = await openTcp({ host, port, mode: 'implicit', timeout });
  try {
    const secure = await startTls(socket, {
      host,
      port,
      phase: 'tls',
      handshakeTimeout: timeout,
      tls: { insecureSkipVerify: true, allowLegacyTls: true },
    });
    secure.destroy();
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

function looksLikeSmtp(bytes: Buffer): boolean {
  return /^[2-5]\d\d(?:[ -]|\r?\n|$)/.test(bytes.subarray(0, 5).toString('latin1'));
}

/**
 * Finds out whether host:port wants STARTTLS or implicit TLS. Throws a ConnectionError that says what the port
 * did instead when it is neither.
 *
 * @example await detectMode('127.0.0.1', 465) // { mode: 'implicit' }
 */
export async function detectMode(
  host: string,
  port: number,
  timeout = DEFAULT_AUDIT_TIMEOUT,
): Promise<Detected> {
  const label = targetLabel({ host, port, mode: 'starttls' });
  if (port === 465 && (await speaksTls(host, port, timeout))) return { mode: 'implicit' };
  // A plaintext server greets at once (postscreen sends "220-" before its pause); a TLS server waits for us.
  // After a short silence a TLS handshake is tried on a second connection while the first keeps waiting.
  const listening = await listenForGreeting(host, port, timeout, timeout);
  let pause: NodeJS.Timeout | undefined;
  const silent = new Promise<'silent'>((resolve) => {
    pause = setTimeout(() => resolve('silent'), GREETING_WAIT);
  });
  const first = await Promise.race([listening.bytes, silent]);
  clearTimeout(pause);
  if (first !== 'silent') return classify(label, first);
  // Part of a greeting came: the rest is on its way (or the wait ends); a TLS server never speaks first.
  if (listening.heard()) return classify(label, await listening.bytes);
  const tls = speaksTls(host, port, timeout);
  type Outcome = Buffer | 'tls' | null;
  const viaTls: Promise<Outcome> = tls.then((ok): Outcome | Promise<Outcome> =>
    ok ? 'tls' : listening.bytes,
  );
  const viaGreeting: Promise<Outcome> = listening.bytes.then((bytes) => bytes ?? viaTls);
  const winner = await Promise.race([viaTls, viaGreeting]);
  listening.cancel();
  if (winner === 'tls') return { mode: 'implicit' };
  return classify(label, winner);
}

function classify(label: string, first: Buffer | null): Detected {
  if (first && looksLikeSmtp(first)) {
    return { mode: 'starttls', greeting: first.toString('latin1').split(/\r?\n/)[0] };
  }
  throw new ConnectionError(
    'EPROTOCOL',
    first === null
      ? `${label} neither greeted in plaintext nor completed a TLS handshake`
      : `${label} does not speak SMTP: it sent "${terminalSafe(first.subarray(0, 40).toString('latin1'))}"`,
    {
      phase: 'greeting',
      hint: 'check the port number; force the mode with --tls (implicit TLS) or --starttls',
    },
  );
}
