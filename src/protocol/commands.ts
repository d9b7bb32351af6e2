/**
 * SMTP command lines (RFC 5321 §4.1.1), each returned complete with its CRLF.
 *
 * Every argument is checked before a line is built: a CR, LF or NUL anywhere is 'ECOMMAND_INJECTION',
 * because it would let the caller's data end the command and start another one (go-smtp's rule). A
 * builder either returns a whole, valid line or throws, so nothing partial can ever be written.
 */

import { Buffer } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { revealSecret, type SecretLike } from '../core/secret.js';
import { validateReversePath } from './address.js';
import { checkDomain, hasNonAscii } from './domain.js';
import { formatOrcpt } from './orcpt.js';
import { printable } from './printable.js';
import { encodeXtext } from './xtext.js';

/** RFC 5321 §4.5.3.1.4: a command line, with its CRLF, is at most 512 octets unless an extension adds room. */
export const COMMAND_LINE_LIMIT = 512;

/*
 * Extension room, added to the 512 octets for each parameter a line carries. Where the extension's RFC
 * names a number it is used: SIZE 26 (RFC 1870 §3), RET and ENVID together 100 and NOTIFY and ORCPT
 * together 500 (RFC 3461 §4). Parameters whose RFC names none (BODY, SMTPUTF8, REQUIRETLS) get exactly
 * their own length: a server that announces an extension has to accept its parameter.
 */
const SIZE_ROOM = 26;
const RET_ENVID_ROOM = 100;
const NOTIFY_ORCPT_ROOM = 500;
/** RFC 3461 §4.4 and §4.2: the longest ENVID and ORCPT values. */
const MAX_ENVID = 100;
const MAX_ORCPT = 500;

export interface MailParams {
  /** SIZE=n (RFC 1870): the message size in octets, a non-negative safe integer. */
  readonly size?: number;
  /** BODY= (RFC 6152, RFC 3030). */
  readonly body?: '7BIT' | '8BITMIME' | 'BINARYMIME';
  /** SMTPUTF8 (RFC 6531): required when the reverse-path or any recipient is UTF-8. */
  readonly smtpUtf8?: boolean;
  /** RET= (RFC 3461): what a bounce returns. */
  readonly ret?: 'FULL' | 'HDRS';
  /** ENVID= (RFC 3461): printable ASCII, xtext-encoded by the builder. */
  readonly envid?: string;
  /** REQUIRETLS (RFC 8689). */
  readonly requireTls?: boolean;
}

export interface RcptParams {
  /** NOTIFY= (RFC 3461): when to send a DSN; 'NEVER' or a non-empty list. */
  readonly notify?: readonly ('SUCCESS' | 'FAILURE' | 'DELAY')[] | 'NEVER';
  /** ORCPT= (RFC 3461): the original recipient address, encoded by the builder. */
  readonly orcpt?: string;
  /**
   * The transaction's MAIL FROM carried SMTPUTF8: allows a UTF-8 forward-path and selects the
   * UTF-8 form of ORCPT (RFC 6533).
   */
  readonly smtpUtf8?: boolean;
}

const INJECTION = /[\r\n\0]/;
const OTHER_CONTROL = /[\x00-\x1f\x7f]/;
// RFC 4422 §3.1: 1–20 of A–Z, 0–9, "-" and "_".
const SASL_MECHANISM = /^[A-Z0-9_-]{1,20}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fail(command: string, message: string, hint?: string): InputError {
  return new InputError('EINVALID_ARGUMENT', message, { command, hint });
}

/** Rejects CR, LF and NUL; `secret` arguments are never quoted in the message. */
function checkArgument(command: string, name: string, value: unknown, secret = false): string {
  if (typeof value !== 'string') throw fail(command, `${command}: ${name} must be a string`);
  if (INJECTION.test(value)) {
    throw new InputError(
      'ECOMMAND_INJECTION',
      `${command}: ${name}${secret ? '' : ` ${printable(value)}`} contains a CR, LF or NUL character, which could inject SMTP commands; nothing was sent`,
      { command },
    );
  }
  return value;
}

/** Adds the CRLF and enforces the line limit. The message never repeats the line (it may hold a secret). */
function finish(command: string, text: string, room = 0): string {
  const line = `${text}\r\n`;
  const limit = COMMAND_LINE_LIMIT + room;
  const length = Buffer.byteLength(line);
  if (length > limit) {
    throw fail(command, `the ${command} command line would be ${length} octets; SMTP allows ${limit} here`);
  }
  return line;
}

function checkSize(command: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw fail(command, `${command}: ${name} must be a non-negative integer, not ${String(value)}`);
  }
  return value;
}

function oneOf<T extends string>(command: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string') checkArgument(command, name, value);
  if (!allowed.includes(value as T)) {
    throw fail(command, `${command}: ${name} must be one of ${allowed.join(', ')}, not ${String(value)}`);
  }
  return value as T;
}

/** EHLO/HELO take a domain (an IDN is sent as A-labels) or an address literal (RFC 5321 §4.1.1.1). */
function clientName(command: string, domain: string): string {
  checkArgument(command, 'the client name', domain);
  const checked = checkDomain(domain);
  if ('problem' in checked) {
    throw fail(
      command,
      `${command}: ${printable(domain)} is not a domain or address literal: ${checked.problem}`,
      'use the host name of this machine, or an address literal such as [192.0.2.1]',
    );
  }
  return checked.ascii;
}

/**
 * Checks a path for MAIL or RCPT ("" passes: it is MAIL's null path; RCPT refuses it before this).
 * UTF-8 in a path needs SMTPUTF8, even when only the domain is UTF-8.
 */
function checkPath(command: string, name: string, path: string, smtpUtf8: boolean): void {
  validateReversePath(path, { smtpUtf8 });
  if (!smtpUtf8 && hasNonAscii(path)) {
    throw new InputError(
      'ESMTPUTF8_REQUIRED',
      `${command}: the ${name} ${printable(path)} is not ASCII, so it needs the SMTPUTF8 parameter`,
      { command, hint: 'convert it with toWireAddress(), which writes an IDN domain as A-labels' },
    );
  }
}

/** @example ehlo('client.example.org') // => 'EHLO client.example.org\r\n' */
export function ehlo(domain: string): string {
  return finish('EHLO', `EHLO ${clientName('EHLO', domain)}`);
}

/** The RFC 821 greeting, for servers that reject EHLO. */
export function helo(domain: string): string {
  return finish('HELO', `HELO ${clientName('HELO', domain)}`);
}

/**
 * MAIL FROM with the extension parameters the caller chose (the caller checks that the server offers them).
 * An empty reverse-path is the null path of bounces: "MAIL FROM:<>".
 *
 * @example mailFrom('a@example.com', { size: 1200, body: '8BITMIME' }) // => 'MAIL FROM:<a@example.com> SIZE=1200 BODY=8BITMIME\r\n'
 */
export function mailFrom(reversePath: string, params: MailParams = {}): string {
  checkArgument('MAIL', 'the reverse-path', reversePath);
  if (params.envid !== undefined) checkArgument('MAIL', 'ENVID', params.envid);
  checkPath('MAIL', 'reverse-path', reversePath, params.smtpUtf8 === true);

  const words = [`MAIL FROM:<${reversePath}>`];
  let room = 0;
  // Room defaults to the parameter's own length, see the note at the top.
  const add = (word: string, extra = word.length + 1) => {
    words.push(word);
    room += extra;
  };
  if (params.size !== undefined) add(`SIZE=${checkSize('MAIL', 'SIZE', params.size)}`, SIZE_ROOM);
  if (params.body !== undefined) {
    add(`BODY=${oneOf('MAIL', 'BODY', params.body, ['7BIT', '8BITMIME', 'BINARYMIME'])}`);
  }
  if (params.smtpUtf8) add('SMTPUTF8');
  if (params.requireTls) add('REQUIRETLS');
  if (params.ret !== undefined) add(`RET=${oneOf('MAIL', 'RET', params.ret, ['FULL', 'HDRS'])}`, 0);
  if (params.envid !== undefined) add(`ENVID=${envidValue(params.envid)}`, 0);
  if (params.ret !== undefined || params.envid !== undefined) room += RET_ENVID_ROOM;
  return finish('MAIL', words.join(' '), room);
}

function envidValue(envid: string): string {
  // RFC 3461 §4.4: printable US-ASCII before xtext encoding, since DSNs carry it in a header-like field.
  if (envid === '' || hasNonAscii(envid) || OTHER_CONTROL.test(envid)) {
    throw fail('MAIL', `MAIL: ENVID ${printable(envid)} must be non-empty printable ASCII`);
  }
  const encoded = encodeXtext(envid);
  if (encoded.length > MAX_ENVID) {
    throw fail(
      'MAIL',
      `MAIL: ENVID is ${encoded.length} characters as xtext; at most ${MAX_ENVID} are allowed`,
    );
  }
  return encoded;
}

/**
 * RCPT TO, with DSN parameters when given. "Postmaster" without a domain is accepted (RFC 5321 §4.1.1.3).
 *
 * @example rcptTo('b@example.net', { notify: ['FAILURE', 'DELAY'] }) // => 'RCPT TO:<b@example.net> NOTIFY=FAILURE,DELAY\r\n'
 */
export function rcptTo(forwardPath: string, params: RcptParams = {}): string {
  checkArgument('RCPT', 'the forward-path', forwardPath);
  if (params.orcpt !== undefined) checkArgument('RCPT', 'ORCPT', params.orcpt);
  if (forwardPath === '') throw new InputError('EADDRESS_INVALID', 'RCPT: the recipient address is empty');
  const smtpUtf8 = params.smtpUtf8 === true;
  if (!/^postmaster$/i.test(forwardPath)) checkPath('RCPT', 'forward-path', forwardPath, smtpUtf8);

  const words = [`RCPT TO:<${forwardPath}>`];
  if (params.notify !== undefined) words.push(`NOTIFY=${notifyValue(params.notify)}`);
  if (params.orcpt !== undefined) words.push(`ORCPT=${orcptValue(params.orcpt, smtpUtf8)}`);
  const room = words.length > 1 ? NOTIFY_ORCPT_ROOM : 0;
  return finish('RCPT', words.join(' '), room);
}

function notifyValue(notify: RcptParams['notify']): string {
  if (notify === 'NEVER') return notify;
  if (!Array.isArray(notify) || notify.length === 0) {
    throw fail('RCPT', "RCPT: NOTIFY must be 'NEVER' or a non-empty list of SUCCESS, FAILURE, DELAY");
  }
  const values = notify.map((v: unknown) => oneOf('RCPT', 'NOTIFY', v, ['SUCCESS', 'FAILURE', 'DELAY']));
  return [...new Set(values)].join(',');
}

function orcptValue(orcpt: string, smtpUtf8: boolean): string {
  if (orcpt === '' || OTHER_CONTROL.test(orcpt)) {
    throw fail(
      'RCPT',
      `RCPT: ORCPT ${printable(orcpt)} must be a non-empty address without control characters`,
    );
  }
  const value = formatOrcpt(orcpt, smtpUtf8);
  if (value.length > MAX_ORCPT) {
    throw fail('RCPT', `RCPT: ORCPT is ${value.length} characters encoded; at most ${MAX_ORCPT} are allowed`);
  }
  return value;
}

/** DATA: the message follows after the 354 reply, dot-stuffed (see DotStuffer). */
export function data(): string {
  return 'DATA\r\n';
}

/**
 * BDAT (RFC 3030): `size` octets of message follow this line as they are, with no dot-stuffing.
 *
 * @example bdat(4096, true) // => 'BDAT 4096 LAST\r\n'
 */
export function bdat(size: number, last: boolean): string {
  return `BDAT ${checkSize('BDAT', 'the chunk size', size)}${last ? ' LAST' : ''}\r\n`;
}

export function rset(): string {
  return 'RSET\r\n';
}

export function noop(): string {
  return 'NOOP\r\n';
}

export function quit(): string {
  return 'QUIT\r\n';
}

export function starttls(): string {
  return 'STARTTLS\r\n';
}

function authLine(mechanism: string, initialResponse: SecretLike | undefined): string {
  checkArgument('AUTH', 'the mechanism', mechanism);
  if (!SASL_MECHANISM.test(mechanism)) {
    throw fail('AUTH', `AUTH: ${printable(mechanism)} is not a SASL mechanism name (RFC 4422 §3.1)`);
  }
  const name = mechanism.toUpperCase();
  if (initialResponse === undefined) return `AUTH ${name}`;
  const response = checkArgument('AUTH', 'the initial response', revealSecret(initialResponse), true);
  if (response === '') return `AUTH ${name} =`;
  if (!BASE64.test(response)) throw fail('AUTH', 'AUTH: the initial response must be base64');
  return `AUTH ${name} ${response}`;
}

/**
 * AUTH with an optional SASL initial response (RFC 4954 §4), already base64; "" is sent as "=".
 * A line over 512 octets throws 'EINVALID_ARGUMENT': check `initialResponseFits` first and otherwise
 * send the response after the 334 challenge with `saslResponse`, as RFC 4954 §4 requires.
 *
 * @example auth('PLAIN', 'AGFsaWNlAHNlY3JldA==') // => 'AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n'
 */
export function auth(mechanism: string, initialResponse?: SecretLike): string {
  return finish('AUTH', authLine(mechanism, initialResponse));
}

/** Whether AUTH with this initial response fits in one command line (RFC 4954 §4). */
export function initialResponseFits(mechanism: string, initialResponse: SecretLike): boolean {
  return Buffer.byteLength(authLine(mechanism, initialResponse)) + 2 <= COMMAND_LINE_LIMIT;
}

/**
 * A client response to a 334 challenge: base64, "" for an empty response. Not a command, so the
 * 512-octet limit does not apply (RFC 4954 §4: responses may be as long as the mechanism needs).
 */
export function saslResponse(response: SecretLike): string {
  const value = checkArgument('AUTH', 'the SASL response', revealSecret(response), true);
  if (!BASE64.test(value)) throw fail('AUTH', 'AUTH: the SASL response must be base64');
  return `${value}\r\n`;
}

/** Cancels an AUTH exchange; the server answers 501 (RFC 4954 §4). */
export function saslCancel(): string {
  return '*\r\n';
}

/** VRFY (RFC 5321 §4.1.1.6): asks whether a user or mailbox exists. */
export function vrfy(query: string): string {
  checkArgument('VRFY', 'the argument', query);
  if (query.trim() === '' || OTHER_CONTROL.test(query)) {
    throw fail('VRFY', `VRFY: ${printable(query)} must be non-empty text without control characters`);
  }
  return finish('VRFY', `VRFY ${query}`);
}
