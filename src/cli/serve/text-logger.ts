/**
 * The server's log events as lines a person reads in a terminal: one line per connection when it ends (client,
 * endpoint, TLS version and cipher, user, messages accepted, why it ended), one per accepted message, and
 * warnings and errors as they happen. `--json-logs` uses the library's jsonLogger instead.
 *
 * The event names and fields are those src/server logs (connect, tls, auth, auth failed, message accepted,
 * disconnect, …); events this file does not know are printed generically, so nothing is lost.
 */
import type { Logger } from '../../core/index.js';
import type { OutStream, Style } from '../output.js';
import { formatBytes } from '../transcript.js';
import { formatListen } from './listen-address.js';

interface SessionState {
  readonly client: string;
  readonly endpoint: string;
  tls?: string;
  tlsError?: string;
  user?: string;
}

/** Fields shown elsewhere in the line, never as key=value. */
const CONTEXT_FIELDS = new Set(['session', 'remote', 'port']);

/** Reasons that are a normal end of a session; others are highlighted. */
const NORMAL_ENDS = new Set(['quit', 'client closed the connection', 'server shutting down']);

function text(value: unknown): string {
  if (Array.isArray(value)) return value.map(text).join(',');
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** The server's "implicit://::1:2465" as --listen spells it: "tls://[::1]:2465". */
function endpointName(value: unknown): string {
  if (typeof value !== 'string') return '?';
  const m = /^(implicit|starttls|none):\/\/(.*):(\d+)$/.exec(value);
  if (!m || m[1] === 'none') return value;
  return formatListen({
    tls: m[1] === 'implicit' ? 'implicit' : 'starttls',
    host: m[2]!,
    port: Number(m[3]),
  });
}

function clock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

function clientOf(fields: Record<string, unknown>): string {
  if (typeof fields['remote'] !== 'string') return `session ${text(fields['session'] ?? '?')}`;
  const remote = fields['remote'];
  const port = typeof fields['port'] === 'number' ? `:${fields['port']}` : '';
  return remote.includes(':') && port ? `[${remote}]${port}` : `${remote}${port}`;
}

/**
 * A Logger that prints readable lines to `out`, coloured with `style` (which is plain unless `out` is a
 * terminal and NO_COLOR is unset).
 *
 * @example new SmtpServer({ …, logger: textLogger(output.stdout, output.out) })
 */
export function textLogger(out: OutStream, style: Style, now: () => Date = () => new Date()): Logger {
  const sessions = new Map<string, SessionState>();
  const write = (line: string) => out.write(`${style.dim(clock(now()))} ${line}\n`);
  const sessionOf = (fields: Record<string, unknown>) =>
    typeof fields['session'] === 'string' ? sessions.get(fields['session']) : undefined;
  const who = (fields: Record<string, unknown>) => sessionOf(fields)?.client ?? clientOf(fields);
  const rest = (fields: Record<string, unknown>, skip: readonly string[] = []) => {
    const parts = Object.entries(fields)
      .filter(([key, value]) => value !== undefined && !CONTEXT_FIELDS.has(key) && !skip.includes(key))
      .map(([key, value]) => `${key}=${text(value)}`);
    return parts.length ? ` ${style.dim(parts.join(' '))}` : '';
  };

  const info = (msg: string, fields: Record<string, unknown> = {}): void => {
    const session = sessionOf(fields);
    switch (msg) {
      case 'listening': // the banner shows the addresses, with what to do with them
        return;
      case 'connect':
        if (typeof fields['session'] === 'string') {
          sessions.set(fields['session'], {
            client: clientOf(fields),
            endpoint: endpointName(fields['endpoint']),
          });
        }
        return;
      case 'tls':
        if (session) session.tls = `${text(fields['version'])} ${text(fields['cipher'])}`;
        return;
      case 'TLS handshake failed':
        if (session) session.tlsError = String(fields['error'] ?? 'unknown error');
        return;
      case 'auth':
        if (session) session.user = text(fields['user']);
        return;
      case 'message accepted': {
        const from = typeof fields['from'] === 'string' ? fields['from'] : '';
        const count = Number(fields['recipients'] ?? 0);
        const size = typeof fields['size'] === 'number' ? `, ${formatBytes(fields['size'])}` : '';
        write(
          `${who(fields)} ${style.green('✓ accepted')} ${text(fields['id'])} from <${from}> ` +
            `for ${count} recipient${count === 1 ? '' : 's'}${size}`,
        );
        return;
      }
      case 'disconnect':
        write(connectionLine(fields, session, style));
        if (typeof fields['session'] === 'string') sessions.delete(fields['session']);
        return;
      case 'stopping': {
        const open = Number(fields['connections'] ?? 0);
        write(
          open === 0
            ? `stopping (${text(fields['signal'])})`
            : `stopping (${text(fields['signal'])}): ${open} connection${open === 1 ? ' gets' : 's get'} up to ` +
                `${text(fields['graceSeconds'])} s to finish; the same signal again stops at once`,
        );
        return;
      }
      case 'closed':
        write('stopped');
        return;
    }
    write(`${msg}${rest(fields)}`);
  };

  return {
    debug: () => {},
    info,
    warn: (msg, fields = {}) => {
      if (msg === 'auth failed') {
        write(
          `${who(fields)} ${style.yellow(`✗ AUTH ${text(fields['mechanism'])} failed`)}${rest(fields, ['mechanism'])}`,
        );
        return;
      }
      write(`${fields['session'] ? `${who(fields)} ` : ''}${style.yellow(msg)}${rest(fields)}`);
    },
    error: (msg, fields = {}) =>
      write(`${fields['session'] ? `${who(fields)} ` : ''}${style.red(`error: ${msg}`)}${rest(fields)}`),
  };
}

/**
 * "127.0.0.1:51234 on starttls://127.0.0.1:2525 · TLSv1.3 TLS_AES_256_GCM_SHA384 · user test · 1 message
 * accepted · quit"
 */
function connectionLine(
  fields: Record<string, unknown>,
  session: SessionState | undefined,
  style: Style,
): string {
  const client = session?.client ?? clientOf(fields);
  const endpoint = session?.endpoint ?? '?';
  const tls = session?.tls ?? style.yellow(session?.tlsError ? `TLS failed (${session.tlsError})` : 'no TLS');
  const user = session?.user ?? (typeof fields['user'] === 'string' ? fields['user'] : undefined);
  const messages = Number(fields['messages'] ?? 0);
  const accepted =
    messages === 0 ? 'no message' : style.green(`${messages} message${messages === 1 ? '' : 's'} accepted`);
  const reason = typeof fields['reason'] === 'string' ? fields['reason'] : 'ended';
  const sep = style.dim(' · ');
  return [
    `${client} on ${endpoint}`,
    tls,
    user === undefined ? 'no auth' : `user ${user}`,
    accepted,
    NORMAL_ENDS.has(reason) ? reason : style.yellow(reason),
  ].join(sep);
}
