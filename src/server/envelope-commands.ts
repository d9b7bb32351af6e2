/**
 * The envelope: MAIL FROM opens a transaction, RCPT TO adds recipients (RFC 5321 §4.1.1.2–3).
 */
import { InputError } from '../core/errors.js';
import { type Command, validateMailbox, validateReversePath } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { newId } from './ids.js';
import { Replies, type ServerReply } from './replies.js';

type Cmd<V extends Command['verb']> = Extract<Command, { verb: V }>;

/** Why an address is refused: 553 5.6.7 when only SMTPUTF8 is missing, else a syntax error. */
function addressProblem(check: () => void, syntax: ServerReply): ServerReply | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof InputError && error.code === 'ESMTPUTF8_REQUIRED') return Replies.utf8Required;
    return syntax;
  }
}

export async function mail(c: Connection, command: Cmd<'MAIL'>): Promise<void> {
  const phase = c.phase;
  if (phase.kind === 'connected') return c.bad(Replies.badSequence('send EHLO or HELO first'));
  if (phase.kind !== 'greeted') return c.bad(Replies.badSequence('nested MAIL command'));
  const o = c.runtime.options;
  if (o.requireAuth && !c.user) return c.bad(Replies.authRequired);
  const { params } = command;
  // RFC 5321 §4.1.1.11: parameters exist only for clients that said EHLO.
  if (!phase.helo.esmtp && Object.keys(params).length > 0) {
    return c.bad(Replies.badParameter('MAIL parameters need EHLO'));
  }
  if (params.requireTls && !c.tls)
    return c.bad(Replies.badParameter('REQUIRETLS is not offered without TLS'));
  if (params.size !== undefined && params.size > o.limits.maxMessageSize) {
    c.send(Replies.sizeExceeded);
    return;
  }
  const smtpUtf8 = params.smtpUtf8 === true;
  const bad = addressProblem(() => validateReversePath(command.from, { smtpUtf8 }), Replies.badSender);
  if (bad) return c.bad(bad);
  const backend = o.backend;
  // Without the hook there is nothing to wait for: MAIL and RCPT are on every message's path.
  const outcome = backend.onMailFrom
    ? await c.hook('onMailFrom', () => backend.onMailFrom?.(command.from, params, c.session))
    : undefined;
  if (outcome && !outcome.ok) {
    c.send(outcome.reply);
    return;
  }
  c.phase = {
    kind: 'transaction',
    helo: phase.helo,
    tx: { id: newId(), from: command.from, params, recipients: [] },
  };
  c.send(Replies.senderOk);
}

export async function rcpt(c: Connection, command: Cmd<'RCPT'>): Promise<void> {
  const phase = c.phase;
  if (phase.kind === 'chunking') return c.bad(Replies.badSequence('RCPT during BDAT'));
  if (phase.kind !== 'transaction') return c.bad(Replies.badSequence('need MAIL command'));
  const o = c.runtime.options;
  if (Object.keys(command.params).length > 0 && !phase.helo.esmtp) {
    return c.bad(Replies.badParameter('RCPT parameters need EHLO'));
  }
  if (phase.tx.recipients.length >= o.limits.maxRecipients) {
    c.send(Replies.tooManyRecipients);
    return;
  }
  const smtpUtf8 = phase.tx.params.smtpUtf8 === true;
  // RFC 5321 §4.5.1: "Postmaster" without a domain must always be accepted.
  if (!/^postmaster$/i.test(command.to)) {
    const bad = addressProblem(() => validateMailbox(command.to, { smtpUtf8 }), Replies.badRecipient);
    if (bad) return c.bad(bad);
  }
  const backend = o.backend;
  const outcome = backend.onRcptTo
    ? await c.hook('onRcptTo', () => backend.onRcptTo?.(command.to, command.params, c.session))
    : undefined;
  if (outcome && !outcome.ok) {
    c.send(outcome.reply);
    return;
  }
  // The hook may have taken time; the phase is re-read so a concurrent change is never overwritten.
  const now = c.phase;
  if (now.kind !== 'transaction') return;
  c.phase = {
    ...now,
    tx: { ...now.tx, recipients: [...now.tx.recipients, { address: command.to, params: command.params }] },
  };
  c.send(Replies.recipientOk);
}
