/**
 * What a server's replies mean for the audit: pure functions from replies to verdicts, so the rules can be
 * read (and tested) apart from the connections that collect the replies.
 */
import { escapeControls, formatReply, type Reply } from '../../protocol/index.js';

/**
 * The EHLO keywords as the server sent them: the keyword upper-cased, its parameters as they were, one string
 * per line after the greeting line. Control characters from the peer are escaped.
 *
 * @example ehloKeywords(reply) // => ['PIPELINING', 'SIZE 10240000', 'STARTTLS', 'AUTH PLAIN LOGIN']
 */
export function ehloKeywords(reply: Reply): string[] {
  const out: string[] = [];
  for (const line of reply.lines.slice(1)) {
    const [keyword, ...params] = line.split(/[ \t]+/).filter((w) => w !== '');
    if (keyword === undefined) continue;
    out.push(escapeControls([keyword.toUpperCase(), ...params].join(' ')));
  }
  return out;
}

/**
 * The SIZE limit from EHLO keywords: the number announced (0 = no fixed limit, also for a bare "SIZE"),
 * null when SIZE is not announced or its parameter is not a number.
 */
export function sizeOf(keywords: readonly string[]): number | null {
  for (const k of keywords) {
    const [keyword, value] = k.split(' ');
    if (keyword !== 'SIZE') continue;
    if (value === undefined) return 0;
    if (!/^\d{1,15}$/.test(value)) return null;
    return Number(value);
  }
  return null;
}

/**
 * A plaintext AUTH PLAIN attempt with a fake credential: true = the server went on with it (334 challenge,
 * 235 success, 535 bad credentials), false = refused before looking at the credential (530, 538, 503, 504,
 * 534 and every other 5xx), null = no verdict (4xx: the server may be busy or its auth backend down).
 */
export function authAttemptProcessed(reply: Reply): boolean | null {
  if (reply.code === 334 || reply.code === 235 || reply.code === 535) return true;
  if (reply.code >= 500) return false;
  return null;
}

/**
 * VRFY/EXPN of "postmaster": 250/251 answer it (enabled), 252 "cannot verify" does not, a 5xx refuses the
 * command (disabled); a 4xx gives no verdict.
 */
export function lookupEnabled(reply: Reply): boolean | null {
  if (reply.code === 250 || reply.code === 251) return true;
  if (reply.code === 252 || reply.code >= 500) return false;
  return null;
}

/**
 * A 252 to VRFY postmaster still lets VRFY enumerate users when an unknown name gets "no such user"
 * (550/551/553) instead of the same 252: the two answers then differ by whether the user exists.
 */
export function vrfyEnumerates(postmaster: Reply, unknown: Reply): boolean {
  return postmaster.code === 252 && (unknown.code === 550 || unknown.code === 551 || unknown.code === 553);
}

/** One reply as one line of evidence, prefixed with the command that got it. */
export function evidence(command: string, reply: Reply): string {
  return `${command}: ${formatReply(reply)}`;
}

/**
 * Shows a smuggling ending the way the issue writes it: "\r\n\x00.\r\n".
 *
 * @example escapeEnding('\n.\r\n') // => '\\n.\\r\\n'
 */
export function escapeEnding(ending: string): string {
  return ending.replace(/[\r\n\0]/g, (ch) => (ch === '\r' ? '\\r' : ch === '\n' ? '\\n' : '\\x00'));
}
