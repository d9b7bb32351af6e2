import { AuthError, type Phase, type PosternError, SmtpReplyError } from '../core/index.js';
import { formatReply, type Reply } from '../protocol/index.js';

/** The reply as carried on errors: code, enhanced code and lines. */
function carried(reply: Reply) {
  return { code: reply.code, enhanced: reply.enhanced, lines: reply.lines };
}

/** Hints for well-known rejections, keyed by enhanced code first, then by reply code. */
function hintFor(reply: Reply, phase: Phase): string | undefined {
  const e = reply.enhanced;
  if (e === '5.7.0' && phase === 'mail') return 'the server requires authentication or TLS before MAIL FROM';
  if (reply.code === 530) return 'the server requires authentication (or STARTTLS) first — pass `auth`';
  if (e === '5.1.1') return 'the recipient address does not exist on that server';
  if (e === '5.1.8' || e === '5.1.7') return 'the server refuses the sender address or its domain';
  if (e === '5.7.1' && phase === 'rcpt')
    return 'relaying denied: authenticate, or send to a domain this server is responsible for';
  if (e === '5.3.4' || reply.code === 552)
    return 'the message is larger than the server accepts (see its SIZE limit)';
  if (reply.code === 421) return 'the server is closing the connection; retry later';
  if (reply.code === 554 && phase === 'greeting') return 'the server refuses connections from this client';
  if (reply.code === 451 || reply.code === 450) return 'a temporary failure: retry later';
  if (reply.code === 500 || reply.code === 502) return 'the server did not recognise the command';
  return undefined;
}

/** A server reply that ended an operation, as a typed error with a hint. */
export function rejection(reply: Reply, command: string, phase: Phase, label: string): SmtpReplyError {
  return new SmtpReplyError('ESMTP_REJECTED', `${label} rejected ${command}: ${formatReply(reply)}`, {
    reply: carried(reply),
    command,
    phase,
    hint: hintFor(reply, phase),
  });
}

/** Maps the final reply of a failed AUTH exchange to a specific error (RFC 4954 §6, RFC 5248). */
export function authRejection(reply: Reply, mechanism: string, label: string): PosternError {
  const base = { reply: carried(reply), command: `AUTH ${mechanism}`, phase: 'auth' as const };
  const said = formatReply(reply);
  if (reply.code === 534 && reply.enhanced === '5.7.9')
    return new AuthError('EAUTH_APP_PASSWORD', `${label} refused ${mechanism}: ${said}`, {
      ...base,
      hint: 'the account needs an application-specific password or OAuth2 (e.g. Gmail and Microsoft 365 with 2-step verification)',
    });
  if (reply.code === 534)
    return new AuthError('EAUTH_UNSUPPORTED', `${label} considers ${mechanism} too weak: ${said}`, {
      ...base,
      hint: 'choose a stronger mechanism with `authMethod`, or use an application password',
    });
  if (reply.code === 538)
    return new AuthError(
      'EAUTH_ENCRYPTION_REQUIRED',
      `${label} requires encryption for ${mechanism}: ${said}`,
      {
        ...base,
        hint: "connect with tls: 'implicit' or 'starttls'",
      },
    );
  if (reply.code === 454 || (reply.code >= 400 && reply.code < 500))
    return new AuthError('EAUTH_TEMPORARY', `${label} could not authenticate right now: ${said}`, {
      ...base,
      transient: true,
      hint: 'a temporary server-side failure (e.g. its password backend is down); retry later',
    });
  if (reply.code === 504)
    return new AuthError('EAUTH_UNSUPPORTED', `${label} does not support ${mechanism}: ${said}`, {
      ...base,
      hint: 'pick one of the mechanisms the server offers in EHLO',
    });
  return new AuthError('EAUTH_FAILED', `${label} rejected the credentials (${mechanism}): ${said}`, {
    ...base,
    hint: 'check the user name and password; some providers need an application password',
  });
}
