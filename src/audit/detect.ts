/**
 * What a port speaks: an SMTP greeting in plaintext (→ STARTTLS), TLS from the first byte (→ implicit, 465-style),
 * or neither. Port 465 is tried as TLS first; anything else waits for a greeting first.
 */
import { ConnectionError } from '../core/index.js';
import { startTls } from '../net/index.js';
import { DEFAULT_AUDIT_TIMEOUT, openTcp, targetLabel } from './connect.js';
import type { AuditTlsMode } from './types.js';

export interface Detected {
  readonly mode: AuditTlsMode;
  /** The first line the server sent in plaintext (STARTTLS ports). */
  readonly greeting?: string | undefined;
}

/** How long a silent port is given to greet before it is tried as implicit TLS. */
const GREETING_WAIT = 3000;

async function firstBytes(host: string, port: number, timeout: number, wait: number): Promise<Buffer | null> {
  const socket = await openTcp({ host, port, mode: 'starttls', timeout });
  return new Promise((resolve) => {
    const done = (value: Buffer | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), wait);
    socket.once('data', (chunk: Buffer) => done(chunk));
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
  });
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
  return /^[2-5]\d\d[ -]/.test(bytes.subarray(0, 4).toString('latin1'));
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
  const first = await firstBytes(host, port, timeout, Math.min(timeout, GREETING_WAIT));
  if (first && looksLikeSmtp(first)) {
    return { mode: 'starttls', greeting: first.toString('latin1').split(/\r?\n/)[0] };
  }
  if (first === null && port !== 465 && (await speaksTls(host, port, timeout))) return { mode: 'implicit' };
  throw new ConnectionError(
    'EPROTOCOL',
    first === null
      ? `${label} neither greeted in plaintext nor completed a TLS handshake`
      : `${label} does not speak SMTP: it sent ${JSON.stringify(first.subarray(0, 40).toString('latin1'))}`,
    {
      phase: 'greeting',
      hint: 'check the port number; force the mode with --tls (implicit TLS) or --starttls',
    },
  );
}
