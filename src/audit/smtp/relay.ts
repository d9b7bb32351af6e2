/**
 * Open-relay test (opt-in): MAIL FROM and RCPT TO an outside domain in the address forms relays have been
 * tricked with (quoted local parts, "%" and "!" routing, source routes), with RSET after each. DATA is never
 * sent, so nothing is ever relayed. A 2xx to RCPT is an accepted recipient, a 4xx/5xx (but 421) a refused
 * one; an attempt whose RCPT got no such reply (refused MAIL FROM, a 421, a connection that failed) was not
 * tested: `accepted: null`, with the reason in `reply`.
 */
import { InputError, SmtpReplyError } from '../../core/errors.js';
import * as commands from '../../protocol/commands.js';
import { formatReply, printable, type Reply } from '../../protocol/index.js';
import type { RelayResult } from '../types.js';
import { describeError, openReady, type ProbeContext, type ProbeSession, rethrowAbort } from './session.js';
import { type AddressClass, addressClass } from './source-address.js';

/** An outside domain reserved for documentation (RFC 2606): it resolves, and nobody receives mail there. */
export const DEFAULT_OUTSIDE_DOMAIN = 'example.net';
const USER = 'postern-relay-test';
/** Reconnects allowed when a server hangs up in the middle (some do after a few refused recipients). */
const MAX_RECONNECTS = 3;

export interface RelayAttempt {
  /** The reverse-path, '' for the null sender. */
  readonly from: string;
  readonly to: string;
}

/**
 * The attempts, with `local` the server's own domain (its EHLO name) and `outside` the domain to relay to.
 *
 * @example relayAttempts('a@example.net', 'mx.example.org', 'example.net')[0] // => { from: 'a@example.net', to: 'postern-relay-test@example.net' }
 */
export function relayAttempts(from: string, local: string, outside: string): RelayAttempt[] {
  const plain = `${USER}@${outside}`;
  return [
    { from, to: plain },
    { from: '', to: plain },
    { from: `postmaster@${local}`, to: plain },
    { from, to: `"${plain}"@${local}` },
    { from, to: `${USER}%${outside}@${local}` },
    { from, to: `${outside}!${USER}` },
    { from, to: `${outside}!${USER}@${local}` },
    { from, to: `@${local}:${plain}` },
    { from, to: `${plain}@${local}` },
    { from: '', to: `${USER}%${outside}@${local}` },
  ];
}

/** Rejects a value that could break out of a path: CR, LF, NUL, angle brackets or white space. */
export function checkRelayInput(name: string, value: string): void {
  if (value === '' || /[\r\n\0<>\s]/.test(value) || value.length > 255) {
    throw new InputError(
      /[\r\n\0]/.test(value) ? 'ECOMMAND_INJECTION' : 'EINVALID_ARGUMENT',
      `relay test: ${name} ${printable(value)} must be a non-empty address or domain without spaces, <, > or control characters`,
    );
  }
}

export interface RelayProbe {
  readonly results: RelayResult[];
  /** The class of the local address the test connected from (undefined when it could not be read). */
  readonly source: AddressClass | undefined;
}

/** What `--relay-test` may set: the envelope sender and the outside domain of the recipients. */
export interface RelayTestOptions {
  readonly from?: string | undefined;
  readonly outsideDomain?: string | undefined;
}

/**
 * Runs every attempt on as few connections as the server allows (with STARTTLS unless `upgrade` is false).
 * A connection that fails, or a 421, costs a reconnect and the attempt is tried again; after MAX_RECONNECTS
 * the attempts left are reported as not tested. Throws only when the first connection cannot be made ready.
 */
export async function probeRelay(
  ctx: ProbeContext,
  o: RelayTestOptions,
  upgrade = true,
): Promise<RelayProbe> {
  const outside = o.outsideDomain ?? DEFAULT_OUTSIDE_DOMAIN;
  checkRelayInput('outside domain', outside);
  const from = o.from ?? `postern-audit@${outside}`;
  checkRelayInput('MAIL FROM', from);

  const first = await openReady(ctx, upgrade);
  let session: ProbeSession | undefined = first.session;
  const source = addressClass(first.session.localAddress);
  const attempts = relayAttempts(from, localDomain(first.greeted.capabilities.domain, ctx), outside);
  const results: RelayResult[] = [];
  let reconnects = 0;
  try {
    for (let i = 0; i < attempts.length; ) {
      const attempt = attempts[i] as RelayAttempt;
      let made = false;
      try {
        session ??= (await openReady(ctx, upgrade)).session;
        results.push(await tryAttempt(session, attempt, ctx.label));
        made = true;
        i++;
        const rset = await session.command(commands.rset(), 'rset');
        if (rset.code === 421) throw closing(ctx.label, 'RSET', rset, 'rset');
      } catch (err) {
        rethrowAbort(err);
        session?.destroy();
        session = undefined;
        // A failure after the attempt was made (the RSET) loses nothing: the next attempt reconnects.
        if (!made && ++reconnects > MAX_RECONNECTS) {
          // The server no longer lets us go on: the rest cannot be tested.
          for (const a of attempts.slice(i)) results.push(notTested(a, describeError(err)));
          break;
        }
      }
    }
  } finally {
    await session?.quit();
  }
  return { results, source };
}

/**
 * One MAIL FROM and RCPT TO. Throws on a connection failure and on a 421 (the server is closing the
 * connection, which says nothing about the recipient), so the caller reconnects and tries again.
 */
async function tryAttempt(session: ProbeSession, a: RelayAttempt, label: string): Promise<RelayResult> {
  // Written by hand: several forms (source routes, "!" paths) are exactly what the path builders refuse.
  const mail = await session.command(`MAIL FROM:<${a.from}>\r\n`, 'mail');
  if (mail.code === 421) throw closing(label, 'MAIL FROM', mail, 'mail');
  if (mail.code < 200 || mail.code > 299) return notTested(a, `MAIL FROM refused: ${formatReply(mail)}`);
  const rcpt = await session.command(`RCPT TO:<${a.to}>\r\n`, 'rcpt');
  if (rcpt.code === 421) throw closing(label, 'RCPT TO', rcpt, 'rcpt');
  if (rcpt.code >= 200 && rcpt.code < 300) return { ...a, reply: formatReply(rcpt), accepted: true };
  if (rcpt.code >= 400 && rcpt.code < 600) return { ...a, reply: formatReply(rcpt), accepted: false };
  return notTested(a, `RCPT TO got neither an acceptance nor a refusal: ${formatReply(rcpt)}`);
}

/** An attempt without a verdict, the reason in `reply`. */
function notTested(a: RelayAttempt, why: string): RelayResult {
  return { ...a, reply: `not tested: ${why}`, accepted: null };
}

/** A 421: the server is closing the connection. */
function closing(
  label: string,
  command: string,
  reply: Reply,
  phase: 'mail' | 'rcpt' | 'rset',
): SmtpReplyError {
  return new SmtpReplyError(
    'ESMTP_REJECTED',
    `${label} is closing the connection (reply to ${command}): ${formatReply(reply)}`,
    { reply, command, phase, transient: true },
  );
}

/** The server's own domain for the "…@local" forms: its EHLO name, or the target's address as a literal. */
function localDomain(ehloDomain: string, ctx: ProbeContext): string {
  if (/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(ehloDomain) && ehloDomain.includes('.'))
    return ehloDomain;
  const host = ctx.target.host.replace(/^\[|\]$/g, '');
  return host.includes(':') ? `[IPv6:${host}]` : /^[\d.]+$/.test(host) ? `[${host}]` : host;
}
