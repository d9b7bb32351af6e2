/**
 * Open-relay test (opt-in): MAIL FROM and RCPT TO an outside domain in the address forms relays have been
 * tricked with (quoted local parts, "%" and "!" routing, source routes), with RSET after each. DATA is never
 * sent, so nothing is ever relayed; a 2xx to RCPT is what counts.
 */
import { InputError } from '../../core/errors.js';
import * as commands from '../../protocol/commands.js';
import { formatReply, printable } from '../../protocol/index.js';
import type { RelayResult } from '../types.js';
import { describeError, openReady, type ProbeContext, type ProbeSession, rethrowAbort } from './session.js';

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

/** Runs every attempt on as few connections as the server allows (with STARTTLS unless `upgrade` is false). */
export async function probeRelay(
  ctx: ProbeContext,
  o: { readonly from?: string | undefined; readonly outsideDomain?: string | undefined },
  upgrade = true,
): Promise<RelayResult[]> {
  const outside = o.outsideDomain ?? DEFAULT_OUTSIDE_DOMAIN;
  checkRelayInput('outside domain', outside);
  const from = o.from ?? `postern-audit@${outside}`;
  checkRelayInput('MAIL FROM', from);

  const first = await openReady(ctx, upgrade);
  let session: ProbeSession | undefined = first.session;
  const attempts = relayAttempts(from, localDomain(first.greeted.capabilities.domain, ctx), outside);
  const results: RelayResult[] = [];
  let reconnects = 0;
  try {
    for (let i = 0; i < attempts.length; ) {
      const attempt = attempts[i] as RelayAttempt;
      try {
        session ??= (await openReady(ctx, upgrade)).session;
        results.push(await tryAttempt(session, attempt));
        i++;
      } catch (err) {
        rethrowAbort(err);
        session?.destroy();
        session = undefined;
        if (++reconnects > MAX_RECONNECTS) {
          // The server no longer lets us go on: the rest cannot be tested.
          for (const a of attempts.slice(i))
            results.push({ ...a, reply: describeError(err), accepted: false });
          break;
        }
      }
    }
  } finally {
    await session?.quit();
  }
  return results;
}

async function tryAttempt(session: ProbeSession, a: RelayAttempt): Promise<RelayResult> {
  // Written by hand: several forms (source routes, "!" paths) are exactly what the path builders refuse.
  const mail = await session.command(`MAIL FROM:<${a.from}>\r\n`, 'mail');
  let result: RelayResult;
  if (mail.code < 200 || mail.code > 299) {
    result = { ...a, reply: `MAIL FROM refused: ${formatReply(mail)}`, accepted: false };
  } else {
    const rcpt = await session.command(`RCPT TO:<${a.to}>\r\n`, 'rcpt');
    result = { ...a, reply: formatReply(rcpt), accepted: rcpt.code >= 200 && rcpt.code < 300 };
  }
  await session.command(commands.rset(), 'rset');
  return result;
}

/** The server's own domain for the "…@local" forms: its EHLO name, or the target's address as a literal. */
function localDomain(ehloDomain: string, ctx: ProbeContext): string {
  if (/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(ehloDomain) && ehloDomain.includes('.'))
    return ehloDomain;
  const host = ctx.target.host.replace(/^\[|\]$/g, '');
  return host.includes(':') ? `[IPv6:${host}]` : /^[\d.]+$/.test(host) ? `[${host}]` : host;
}
