/**
 * The server side of the command grammar (RFC 5321 §4.1): one command line (without its CRLF) becomes a
 * typed Command, or a typed reason why it is not one. Parameters of MAIL and RCPT are parsed here too
 * (SIZE, BODY, SMTPUTF8, RET, ENVID, REQUIRETLS, AUTH, NOTIFY, ORCPT), so a server never sees raw text.
 *
 * What a reason maps to on the wire (500, 501, 502, 555, …) is the server's business, not the grammar's.
 */

import { Buffer } from 'node:buffer';
import { decodeXtext } from './xtext.js';

export type BodyType = '7BIT' | '8BITMIME' | 'BINARYMIME';
export type DsnNotify = 'SUCCESS' | 'FAILURE' | 'DELAY';

/** MAIL FROM parameters as they were given; absent means "not given". */
export interface MailParameters {
  /** SIZE=n (RFC 1870); Infinity when the number is too large to represent. */
  readonly size?: number;
  readonly body?: BodyType;
  readonly smtpUtf8?: true;
  readonly requireTls?: true;
  /** RET= (RFC 3461 §4.3). */
  readonly ret?: 'FULL' | 'HDRS';
  /** ENVID= (RFC 3461 §4.4), xtext-decoded. */
  readonly envid?: string;
  /** AUTH= (RFC 4954 §5), xtext-decoded; "<>" when the submitter is unknown. */
  readonly auth?: string;
}

export interface OriginalRecipient {
  /** The address type, "rfc822" or "utf-8" (RFC 6533), lower-cased. */
  readonly type: string;
  /** The address: xtext-decoded for rfc822, as written for other types. */
  readonly address: string;
}

export interface RcptParameters {
  /** NOTIFY= (RFC 3461 §4.1): 'NEVER' or the list of events. */
  readonly notify?: 'NEVER' | readonly DsnNotify[];
  readonly orcpt?: OriginalRecipient;
}

export type Command =
  | { readonly verb: 'EHLO'; readonly domain: string }
  | { readonly verb: 'HELO'; readonly domain: string }
  | { readonly verb: 'MAIL'; readonly from: string; readonly params: MailParameters }
  | { readonly verb: 'RCPT'; readonly to: string; readonly params: RcptParameters }
  | { readonly verb: 'DATA' }
  | { readonly verb: 'BDAT'; readonly size: number; readonly last: boolean }
  | { readonly verb: 'RSET' }
  | { readonly verb: 'NOOP' }
  | { readonly verb: 'QUIT' }
  | { readonly verb: 'STARTTLS' }
  | { readonly verb: 'VRFY'; readonly argument: string }
  | { readonly verb: 'HELP'; readonly topic: string | undefined }
  | { readonly verb: 'AUTH'; readonly mechanism: string; readonly initialResponse: string | undefined };

export type Verb = Command['verb'];

/**
 * Why a line is not a command:
 * - `unknown`: no such command (500); `unimplemented`: a real SMTP command this server does not offer (502);
 * - `syntax`: wrong arguments (501); `parameter`: an unknown or unsupported MAIL/RCPT parameter (555);
 * - `forbidden`: an HTTP request line or similar, a sign the peer is not an SMTP client at all.
 */
export type CommandProblem = {
  readonly kind: 'unknown' | 'unimplemented' | 'syntax' | 'parameter' | 'forbidden';
  /** The verb as sent, upper-cased (may be garbage for `unknown`). */
  readonly verb: string;
  /** A short, safe explanation for the reply text (never echoes the client's bytes). */
  readonly message: string;
};

export type ParsedCommand =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly problem: CommandProblem };

// RFC 5321 §4.1.1: these exist, but this server does not offer them.
const UNIMPLEMENTED = new Set(['EXPN', 'TURN', 'ETRN', 'ATRN', 'SEND', 'SOML', 'SAML', 'VERB', 'BURL']);
// What browsers and proxies send. Postfix's smtpd_forbidden_commands has the same idea: such a peer is not
// confused, it is something else (a cross-protocol attack from a web page), and the connection is dropped.
const FORBIDDEN = new Set(['GET', 'POST', 'PUT', 'HEAD', 'CONNECT', 'OPTIONS', 'DELETE', 'PATCH', 'TRACE']);

const SASL_MECHANISM = /^[A-Z0-9_-]{1,20}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// esmtp-keyword and esmtp-value (RFC 5321 §4.1.2): the value is printable ASCII except "=" and SP;
// UTF-8 is allowed in values under SMTPUTF8 (RFC 6531 §3.3).
const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const VALUE = /^(?:[\x21-\x3c\x3e-\x7e]|[^\x00-\x7f])+$/u;
const DIGITS = /^\d{1,20}$/;
/** RFC 3461 §4.4 and §4.2. */
const MAX_ENVID = 100;
const MAX_ORCPT = 500;

function ok(command: Command): ParsedCommand {
  return { ok: true, command };
}

function problem(kind: CommandProblem['kind'], verb: string, message: string): ParsedCommand {
  return { ok: false, problem: { kind, verb, message } };
}

/**
 * Parses one command line, without its line end. Verbs are case-insensitive; arguments are kept as sent.
 *
 * @example parseCommand('MAIL FROM:<a@example.com> SIZE=1000') // => { ok: true, command: { verb: 'MAIL', from: 'a@example.com', params: { size: 1000 } } }
 */
export function parseCommand(line: string): ParsedCommand {
  const space = line.indexOf(' ');
  const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  // RFC 5321 §4.1.1: one SP separates verb and arguments; trailing spaces are common enough to ignore.
  const rest = space === -1 ? '' : line.slice(space + 1).trimEnd();
  switch (verb) {
    case 'EHLO':
    case 'HELO':
      return parseHelo(verb, rest);
    case 'MAIL':
      return parseMail(rest);
    case 'RCPT':
      return parseRcpt(rest);
    case 'DATA':
    case 'RSET':
    case 'QUIT':
    case 'STARTTLS':
      return rest === '' ? ok({ verb }) : problem('syntax', verb, `${verb} takes no arguments`);
    case 'NOOP':
      return ok({ verb }); // RFC 5321 §4.1.1.9: an argument is allowed and ignored
    case 'BDAT':
      return parseBdat(rest);
    case 'VRFY':
      return rest === '' ? problem('syntax', verb, 'VRFY needs an argument') : ok({ verb, argument: rest });
    case 'HELP':
      return ok({ verb, topic: rest === '' ? undefined : rest });
    case 'AUTH':
      return parseAuth(rest);
    default:
      if (UNIMPLEMENTED.has(verb)) return problem('unimplemented', verb, `${verb} is not implemented`);
      if (FORBIDDEN.has(verb)) return problem('forbidden', verb, 'this is an SMTP server');
      return problem('unknown', verb, 'command not recognized');
  }
}

function parseHelo(verb: 'EHLO' | 'HELO', rest: string): ParsedCommand {
  // Only the shape is checked: RFC 5321 §4.1.4 forbids refusing a client for the name it gives, and real
  // clients send host names with underscores or single labels. No spaces and no control characters.
  const domain = rest.trim();
  if (domain === '' || /[\s\x00-\x1f\x7f]/.test(domain)) {
    return problem('syntax', verb, `${verb} needs the client's domain name or address literal`);
  }
  return ok(verb === 'EHLO' ? { verb, domain } : { verb, domain });
}

/**
 * Splits "FROM:<path> params" or "TO:<path> params". Tolerates spaces after the colon (common in the wild)
 * but requires the angle brackets; drops a source route ("<@a,@b:user@c>", RFC 5321 §4.1.1.3).
 */
function splitPath(rest: string, keyword: 'FROM' | 'TO'): { path: string; params: string } | string {
  const head = `${keyword}:`;
  if (rest.slice(0, head.length).toUpperCase() !== head) return `expected ${keyword}:<address>`;
  const after = rest.slice(head.length).trimStart();
  if (!after.startsWith('<')) return `expected ${keyword}:<address> with angle brackets`;
  const close = closingBracket(after);
  if (close === -1) return 'the address has no closing ">"';
  let path = after.slice(1, close);
  const tail = after.slice(close + 1);
  if (tail !== '' && !tail.startsWith(' ')) return 'parameters must follow the address after a space';
  if (path.startsWith('@')) {
    const colon = path.indexOf(':');
    if (colon === -1) return 'the source route has no ":"';
    path = path.slice(colon + 1);
  }
  return { path, params: tail.trim() };
}

/** The index of the ">" that ends the path, skipping quoted local parts ("a>b"@example.com). */
function closingBracket(text: string): number {
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === '>' && !quoted) return i;
  }
  return -1;
}

type Param = { readonly keyword: string; readonly value: string | undefined };

function splitParams(text: string): Param[] | string {
  if (text === '') return [];
  const seen = new Set<string>();
  const params: Param[] = [];
  for (const word of text.split(/ +/)) {
    const eq = word.indexOf('=');
    const keyword = (eq === -1 ? word : word.slice(0, eq)).toUpperCase();
    const value = eq === -1 ? undefined : word.slice(eq + 1);
    if (!KEYWORD.test(keyword)) return 'a parameter keyword is malformed';
    if (value !== undefined && !VALUE.test(value)) return `the value of ${keyword} is malformed`;
    if (seen.has(keyword)) return `${keyword} is given twice`;
    seen.add(keyword);
    params.push({ keyword, value });
  }
  return params;
}

function parseMail(rest: string): ParsedCommand {
  const split = splitPath(rest, 'FROM');
  if (typeof split === 'string') return problem('syntax', 'MAIL', split);
  const words = splitParams(split.params);
  if (typeof words === 'string') return problem('syntax', 'MAIL', words);
  const params: { -readonly [K in keyof MailParameters]: MailParameters[K] } = {};
  for (const { keyword, value } of words) {
    const bad = mailParameter(params, keyword, value);
    if (bad) return problem(bad.kind, 'MAIL', bad.message);
  }
  return ok({ verb: 'MAIL', from: split.path, params });
}

type ParamProblem = { kind: 'syntax' | 'parameter'; message: string } | undefined;

function flag(keyword: string, value: string | undefined): ParamProblem {
  return value === undefined ? undefined : { kind: 'syntax', message: `${keyword} takes no value` };
}

function hasValue(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function mailParameter(
  params: { -readonly [K in keyof MailParameters]: MailParameters[K] },
  keyword: string,
  value: string | undefined,
): ParamProblem {
  const missing = { kind: 'syntax', message: `${keyword} needs a value` } as const;
  switch (keyword) {
    case 'SIZE': {
      if (!hasValue(value)) return missing;
      if (!DIGITS.test(value)) return { kind: 'syntax', message: 'SIZE must be a number of octets' };
      const size = Number(value);
      params.size = Number.isSafeInteger(size) ? size : Number.POSITIVE_INFINITY;
      return undefined;
    }
    case 'BODY': {
      if (!hasValue(value)) return missing;
      const body = value.toUpperCase();
      if (body !== '7BIT' && body !== '8BITMIME' && body !== 'BINARYMIME') {
        return { kind: 'parameter', message: 'BODY must be 7BIT, 8BITMIME or BINARYMIME' };
      }
      params.body = body;
      return undefined;
    }
    case 'SMTPUTF8':
      params.smtpUtf8 = true;
      return flag(keyword, value);
    case 'REQUIRETLS':
      params.requireTls = true;
      return flag(keyword, value);
    case 'RET': {
      if (!hasValue(value)) return missing;
      const ret = value.toUpperCase();
      if (ret !== 'FULL' && ret !== 'HDRS') return { kind: 'syntax', message: 'RET must be FULL or HDRS' };
      params.ret = ret;
      return undefined;
    }
    case 'ENVID': {
      if (!hasValue(value)) return missing;
      const envid = xtext(value);
      if (envid === undefined || envid.length > MAX_ENVID) {
        return { kind: 'syntax', message: 'ENVID must be xtext of at most 100 characters' };
      }
      params.envid = envid;
      return undefined;
    }
    case 'AUTH': {
      if (!hasValue(value)) return missing;
      const auth = value === '<>' ? value : xtext(value);
      if (auth === undefined) return { kind: 'syntax', message: 'AUTH= must be xtext or <>' };
      params.auth = auth;
      return undefined;
    }
    default:
      return { kind: 'parameter', message: `the MAIL parameter ${keyword} is not supported` };
  }
}

function xtext(value: string): string | undefined {
  try {
    return decodeXtext(value);
  } catch {
    return undefined;
  }
}

function parseRcpt(rest: string): ParsedCommand {
  const split = splitPath(rest, 'TO');
  if (typeof split === 'string') return problem('syntax', 'RCPT', split);
  if (split.path === '') return problem('syntax', 'RCPT', 'the recipient address is empty');
  const words = splitParams(split.params);
  if (typeof words === 'string') return problem('syntax', 'RCPT', words);
  const params: { -readonly [K in keyof RcptParameters]: RcptParameters[K] } = {};
  for (const { keyword, value } of words) {
    if (keyword === 'NOTIFY') {
      if (!hasValue(value)) return problem('syntax', 'RCPT', 'NOTIFY needs a value');
      const notify = parseNotify(value);
      if (notify === undefined) {
        return problem('syntax', 'RCPT', 'NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY');
      }
      params.notify = notify;
    } else if (keyword === 'ORCPT') {
      if (!hasValue(value)) return problem('syntax', 'RCPT', 'ORCPT needs a value');
      const orcpt = parseOrcpt(value);
      if (orcpt === undefined) return problem('syntax', 'RCPT', 'ORCPT must be addr-type;xtext');
      params.orcpt = orcpt;
    } else {
      return problem('parameter', 'RCPT', `the RCPT parameter ${keyword} is not supported`);
    }
  }
  return ok({ verb: 'RCPT', to: split.path, params });
}

function parseNotify(value: string): RcptParameters['notify'] | undefined {
  const words = value.toUpperCase().split(',');
  if (words.length === 1 && words[0] === 'NEVER') return 'NEVER';
  const events: DsnNotify[] = [];
  for (const word of words) {
    if (word !== 'SUCCESS' && word !== 'FAILURE' && word !== 'DELAY') return undefined;
    if (!events.includes(word)) events.push(word);
  }
  return events;
}

function parseOrcpt(value: string): OriginalRecipient | undefined {
  const semi = value.indexOf(';');
  if (semi <= 0 || value.length > MAX_ORCPT + semi + 1) return undefined;
  const type = value.slice(0, semi).toLowerCase();
  const raw = value.slice(semi + 1);
  if (raw === '' || !KEYWORD.test(type)) return undefined;
  if (type !== 'rfc822') return { type, address: raw };
  const address = xtext(raw);
  return address === undefined ? undefined : { type, address };
}

function parseBdat(rest: string): ParsedCommand {
  const words = rest.split(' ');
  const size = words[0] ?? '';
  const last = words[1];
  if (!DIGITS.test(size) || words.length > 2 || (last !== undefined && last.toUpperCase() !== 'LAST')) {
    return problem('syntax', 'BDAT', 'expected BDAT <size> [LAST]');
  }
  const n = Number(size);
  return ok({
    verb: 'BDAT',
    size: Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY,
    last: last !== undefined,
  });
}

function parseAuth(rest: string): ParsedCommand {
  const words = rest.split(' ');
  const mechanism = (words[0] ?? '').toUpperCase();
  if (!SASL_MECHANISM.test(mechanism) || words.length > 2) {
    return problem('syntax', 'AUTH', 'expected AUTH <mechanism> [initial-response]');
  }
  const response = words[1];
  if (response !== undefined && response !== '=' && !BASE64.test(response)) {
    return problem('syntax', 'AUTH', 'the initial response must be base64');
  }
  return ok({ verb: 'AUTH', mechanism, initialResponse: response });
}

/** Decodes a SASL response line (base64, "=" for empty). Undefined when it is not base64. */
export function decodeSaslLine(line: string): Buffer | undefined {
  if (line === '=' || line === '') return Buffer.alloc(0);
  return BASE64.test(line) ? Buffer.from(line, 'base64') : undefined;
}
