/**
 * The Received: trace header (RFC 5321 §4.4, RFC 5322 §3.6.7) with the protocol keyword of RFC 3848 / RFC 6531
 * (ESMTPSA = ESMTP over TLS, authenticated) and the TLS details, as Postfix's smtpd_tls_received_header gives.
 */
import type { ServerTlsInfo } from '../net/index.js';

export interface ReceivedOptions {
  readonly helo: { readonly name: string; readonly esmtp: boolean } | undefined;
  readonly remoteAddress: string;
  readonly hostname: string;
  readonly id: string;
  readonly tls: ServerTlsInfo | undefined;
  readonly authenticated: boolean;
  readonly smtpUtf8: boolean;
  readonly recipients: readonly string[];
  readonly date: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The last date formatted, by whole second: a busy server stamps many messages within one second. */
let lastSecond = Number.NaN;
let lastText = '';

/** RFC 5322 §3.3 date-time in UTC: "Thu, 28 Nov 2024 13:05:12 +0000". */
export function rfc5322Date(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second === lastSecond) return lastText;
  lastText =
    `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
  lastSecond = second;
  return lastText;
}

/** "ESMTPSA", "UTF8SMTPS", "SMTP", … */
export function protocolKeyword(
  o: Pick<ReceivedOptions, 'helo' | 'tls' | 'authenticated' | 'smtpUtf8'>,
): string {
  const base = o.smtpUtf8 ? 'UTF8SMTP' : o.helo?.esmtp === false ? 'SMTP' : 'ESMTP';
  return `${base}${o.tls ? 'S' : ''}${o.authenticated ? 'A' : ''}`;
}

/** The client's name is its own claim: keep it to printable ASCII that cannot end a comment or a field. */
function safeToken(text: string): string {
  const clean = text.replace(/[^\x21-\x7e]|[()\\;]/g, '?');
  return clean.length > 255 ? clean.slice(0, 255) : clean;
}

function addressLiteral(address: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return `[${v4mapped[1]}]`;
  return address.includes(':') ? `[IPv6:${address}]` : `[${address}]`;
}

/**
 * The header, folded, ending in CRLF.
 *
 * @example
 * Received: from client.example ([192.0.2.1])
 * 	by mx.example (Postern) with ESMTPSA id 7XQ3K2M9ZB4
 * 	(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256)
 * 	for <bob@example.org>; Thu, 28 Nov 2024 13:05:12 +0000
 */
export function receivedHeader(o: ReceivedOptions): string {
  const lines = [
    `Received: from ${safeToken(o.helo?.name ?? 'unknown')} (${addressLiteral(o.remoteAddress)})`,
    `\tby ${safeToken(o.hostname)} (Postern) with ${protocolKeyword(o)} id ${safeToken(o.id)}`,
  ];
  if (o.tls) {
    const bits = o.tls.bits === undefined ? '' : ` bits=${o.tls.bits}`;
    lines.push(`\t(version=${safeToken(o.tls.version)} cipher=${safeToken(o.tls.cipher)}${bits})`);
  }
  const date = rfc5322Date(o.date);
  // Like Postfix: name the recipient only when there is exactly one, so a Bcc list is not disclosed.
  const only = o.recipients.length === 1 ? o.recipients[0] : undefined;
  if (only !== undefined && !/[\r\n<>]/.test(only)) lines.push(`\tfor <${only}>; ${date}`);
  else lines[lines.length - 1] += `; ${date}`;
  return `${lines.join('\r\n')}\r\n`;
}
