/**
 * What a server offers, read from its EHLO reply (RFC 5321 §4.1.1.1) as a typed value.
 * After STARTTLS this must be rebuilt from the new EHLO reply; the pre-TLS one is never trusted (RFC 3207 §4.2).
 */

import { ProtocolError } from '../core/errors.js';
import { printable } from './printable.js';
import type { Reply } from './reply.js';

export interface Capabilities {
  /** The name the server gave for itself, first word of the first line. */
  readonly domain: string;
  /** The other words of the first line (free-form greeting text). */
  readonly greeting: readonly string[];
  readonly size: boolean;
  /** SIZE n with n > 0 (RFC 1870); undefined for no limit or none announced. */
  readonly sizeLimit: number | undefined;
  /** SASL mechanisms, uppercased and deduplicated, from "AUTH X Y" and the old "AUTH=X Y" form. */
  readonly auth: readonly string[];
  readonly starttls: boolean;
  readonly pipelining: boolean;
  readonly eightBitMime: boolean;
  readonly smtpUtf8: boolean;
  readonly dsn: boolean;
  readonly chunking: boolean;
  /** BINARYMIME, only when CHUNKING is offered too: it cannot be used without BDAT (RFC 3030 §3). */
  readonly binaryMime: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly requireTls: boolean;
  /** Every keyword, uppercased, with its parameters; unknown keywords are kept. */
  readonly keywords: ReadonlyMap<string, readonly string[]>;
  /** Whether the server announced `keyword` (any case). */
  has(keyword: string): boolean;
}

const WORDS = /[ \t]+/;

function capabilities(firstLine: string, keywords: ReadonlyMap<string, readonly string[]>): Capabilities {
  const [domain = '', ...greeting] = firstLine.split(WORDS).filter((word) => word !== '');
  const on = (keyword: string) => keywords.has(keyword);
  return Object.freeze({
    domain,
    greeting: Object.freeze(greeting),
    size: on('SIZE'),
    sizeLimit: sizeLimitOf(keywords.get('SIZE')),
    auth: Object.freeze([...(keywords.get('AUTH') ?? [])]),
    starttls: on('STARTTLS'),
    pipelining: on('PIPELINING'),
    eightBitMime: on('8BITMIME'),
    smtpUtf8: on('SMTPUTF8'),
    dsn: on('DSN'),
    chunking: on('CHUNKING'),
    binaryMime: on('BINARYMIME') && on('CHUNKING'),
    enhancedStatusCodes: on('ENHANCEDSTATUSCODES'),
    requireTls: on('REQUIRETLS'),
    keywords,
    has: (keyword: string) => keywords.has(keyword.toUpperCase()),
  });
}

function sizeLimitOf(params: readonly string[] | undefined): number | undefined {
  const value = params?.[0];
  if (value === undefined || !/^\d{1,20}$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

function checkGreetingReply(reply: Reply, command: string): void {
  if (reply.code < 200 || reply.code > 299) {
    throw new ProtocolError(
      'EPROTOCOL',
      `cannot read capabilities from a ${reply.code} reply to ${command}: ${printable(reply.lines[0] ?? '')}`,
    );
  }
}

/**
 * Reads the capabilities from a 250 reply to EHLO.
 *
 * @example parseEhlo(reply).auth // => ['PLAIN', 'LOGIN']
 */
export function parseEhlo(reply: Reply): Capabilities {
  checkGreetingReply(reply, 'EHLO');
  const keywords = new Map<string, string[]>();
  for (const line of reply.lines.slice(1)) {
    const words = line.split(WORDS).filter((word) => word !== '');
    const first = words.shift();
    if (first === undefined) continue;
    let keyword = first.toUpperCase();
    // Old servers announce "AUTH=LOGIN PLAIN" for clients that predate RFC 2554's final form.
    if (keyword.startsWith('AUTH=')) {
      words.unshift(first.slice(5));
      keyword = 'AUTH';
    }
    const params = keyword === 'AUTH' ? words.filter((w) => w !== '').map((w) => w.toUpperCase()) : words;
    const known = keywords.get(keyword);
    if (known === undefined) keywords.set(keyword, [...new Set(params)]);
    else for (const p of params) if (!known.includes(p)) known.push(p);
  }
  for (const params of keywords.values()) Object.freeze(params);
  return capabilities(reply.lines[0] ?? '', keywords);
}

/** Capabilities after a HELO fallback: the server's name, and no extensions at all. */
export function heloCapabilities(reply: Reply): Capabilities {
  checkGreetingReply(reply, 'HELO');
  return capabilities(reply.lines[0] ?? '', new Map());
}
