/**
 * Every reply the server sends, with its enhanced status code (RFC 3463, RFC 5248), in one place so the
 * wording and codes stay consistent. Reply text never carries internal error text or client bytes.
 */

import { SmtpReplyError } from '../core/errors.js';

/** A reply to write: code, enhanced code (absent for the greeting and EHLO) and one or more lines. */
export interface ServerReply {
  readonly code: number;
  readonly enhanced?: string | undefined;
  readonly lines: readonly string[];
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;
/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CRLF. */
const MAX_TEXT = 480;

export function reply(code: number, enhanced: string | undefined, ...lines: string[]): ServerReply {
  return { code, enhanced, lines: lines.length === 0 ? [''] : lines };
}

/** Removes what could break the reply framing or a log line (CR, LF, other controls) and caps the length. */
export function safeText(text: string): string {
  const clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ');
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

/**
 * The wire form: "250-2.1.0 a\r\n250 2.1.0 b\r\n". RFC 2034 §4: the enhanced code starts every line.
 *
 * @example formatServerReply(reply(250, '2.0.0', 'Ok')) // => '250 2.0.0 Ok\r\n'
 */
export function formatServerReply(r: ServerReply): string {
  return FIXED_WIRE.get(r) ?? wireForm(r);
}

function wireForm(r: ServerReply): string {
  const last = r.lines.length - 1;
  let out = '';
  r.lines.forEach((line, i) => {
    const text = safeText(line);
    const body = r.enhanced ? (text === '' ? r.enhanced : `${r.enhanced} ${text}`) : text;
    out += `${r.code}${i === last ? ' ' : '-'}${body}\r\n`;
  });
  return out;
}

/**
 * The error a hook throws to refuse something with a reply of its choice.
 *
 * @example throw reject(550, '5.7.1', 'Relaying denied')
 */
export function reject(code: number, enhanced: string, text: string): SmtpReplyError {
  if (!Number.isInteger(code) || code < 400 || code > 599) {
    throw new RangeError(`reject(): ${code} is not a 4xx or 5xx reply code`);
  }
  if (!ENHANCED.test(enhanced) || Number(enhanced[0]) !== Math.floor(code / 100)) {
    throw new RangeError(`reject(): ${enhanced} is not an enhanced code of class ${Math.floor(code / 100)}`);
  }
  return new SmtpReplyError('ESMTP_REJECTED', `rejected: ${code} ${enhanced} ${text}`, {
    reply: { code, enhanced, lines: [text] },
  });
}

/** The reply a hook's SmtpReplyError asks for, if it carries a usable one. */
export function replyOfError(error: unknown): ServerReply | undefined {
  if (!(error instanceof SmtpReplyError) || !error.reply) return undefined;
  const { code, enhanced, lines } = error.reply;
  if (!Number.isInteger(code) || code < 200 || code > 599) return undefined;
  const cls = Math.floor(code / 100);
  const usable = enhanced !== undefined && ENHANCED.test(enhanced) && Number(enhanced[0]) === cls;
  return { code, enhanced: usable ? enhanced : `${cls}.0.0`, lines: lines.length ? lines : [''] };
}

/** The fixed replies. Functions where the text depends on a value. */
export const Replies = {
  greeting: (hostname: string) => reply(220, undefined, `${hostname} ESMTP Postern`),
  ok: reply(250, '2.0.0', 'Ok'),
  senderOk: reply(250, '2.1.0', 'Ok'),
  recipientOk: reply(250, '2.1.5', 'Ok'),
  reset: reply(250, '2.0.0', 'Reset'),
  noop: reply(250, '2.0.0', 'Ok'),
  bye: reply(221, '2.0.0', 'Bye'),
  startData: reply(354, undefined, 'End data with <CR><LF>.<CR><LF>'),
  queued: (id: string) => reply(250, '2.0.0', `Ok: queued as ${id}`),
  chunkReceived: (octets: number) => reply(250, '2.0.0', `${octets} octets received`),
  readyForTls: reply(220, '2.0.0', 'Ready to start TLS'),
  authOk: reply(235, '2.7.0', 'Authentication successful'),
  vrfy: reply(252, '2.5.0', 'Cannot VRFY user, but will accept message and attempt delivery'),
  help: reply(
    214,
    '2.0.0',
    'Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH',
    'See RFC 5321',
  ),

  // 4xx: try again later
  shuttingDown: reply(421, '4.3.2', 'Service shutting down, closing connection'),
  idleTimeout: reply(421, '4.4.2', 'Timeout exceeded, closing connection'),
  tooManyConnections: reply(421, '4.7.0', 'Too many connections, try again later'),
  tooManyFromYou: reply(421, '4.7.0', 'Too many connections from your address, try again later'),
  tooManyErrors: reply(421, '4.7.0', 'Too many errors, closing connection'),
  tooManyAuthFailures: reply(421, '4.7.0', 'Too many failed authentication attempts, closing connection'),
  localError: reply(451, '4.3.0', 'Local error in processing, try again later'),
  tooManyRecipients: reply(452, '4.5.3', 'Too many recipients'),
  tlsUnavailable: reply(454, '4.7.0', 'TLS not available due to temporary reason'),

  // 5xx: syntax and sequence
  lineTooLong: reply(500, '5.5.2', 'Line too long'),
  badEncoding: reply(500, '5.5.2', 'Syntax error: invalid characters in command'),
  unknownCommand: reply(500, '5.5.1', 'Command not recognized'),
  syntax: (text: string) => reply(501, '5.5.4', `Syntax error: ${text}`),
  notImplemented: reply(502, '5.5.1', 'Command not implemented'),
  badSequence: (text: string) => reply(503, '5.5.1', `Bad sequence of commands: ${text}`),
  badParameter: (text: string) => reply(555, '5.5.4', text),
  badSender: reply(501, '5.1.7', 'Bad sender address syntax'),
  badRecipient: reply(501, '5.1.3', 'Bad recipient address syntax'),
  utf8Required: reply(553, '5.6.7', 'Non-ASCII address requires SMTPUTF8'),
  noRecipients: reply(554, '5.5.1', 'No valid recipients'),
  binaryNeedsBdat: reply(503, '5.5.1', 'BINARYMIME requires BDAT, not DATA'),
  pipelinedAfterStarttls: reply(503, '5.5.1', 'Commands pipelined after STARTTLS; closing connection'),
  forbidden: reply(521, '5.7.0', 'This is an SMTP server; closing connection'),
  pregreet: reply(521, '5.5.1', 'Protocol error: talking before the greeting; closing connection'),
  bareLineEnding: reply(
    521,
    '5.5.2',
    'Bare CR or LF received in message data; lines must end with CRLF. Closing connection',
  ),

  // 5xx: policy
  sizeExceeded: reply(552, '5.3.4', 'Message size exceeds fixed maximum message size'),
  tlsRequired: reply(530, '5.7.0', 'Must issue a STARTTLS command first'),
  authRequired: reply(530, '5.7.0', 'Authentication required'),
  encryptionRequired: reply(538, '5.7.11', 'Encryption required for requested authentication mechanism'),
  authUnavailable: reply(502, '5.5.1', 'AUTH not available'),
  authAlready: reply(503, '5.5.1', 'Already authenticated'),
  authCancelled: reply(501, '5.7.0', 'Authentication cancelled'),
  authBadResponse: reply(501, '5.5.2', 'Cannot decode response'),
  authFailed: reply(535, '5.7.8', 'Authentication credentials invalid'),
  mechanismUnavailable: reply(504, '5.5.4', 'Unrecognized authentication type'),
  requireTlsNeedsTls: reply(530, '5.7.10', 'REQUIRETLS needs a TLS connection'),
} as const;

/** The wire form of every fixed reply, made once: most replies a busy server sends are these. */
const FIXED_WIRE = new Map<ServerReply, string>();
for (const value of Object.values(Replies)) {
  if (typeof value === 'object') FIXED_WIRE.set(value, wireForm(value));
}
