/**
 * Session commands: EHLO and HELO (with the capability list), RSET, NOOP, QUIT, VRFY, HELP.
 */
import type { Command } from '../protocol/index.js';
import { authMechanisms } from './auth-command.js';
import type { Connection } from './connection.js';
import { Replies, reply } from './replies.js';
import { heloOf, inTransaction } from './state.js';

type Cmd<V extends Command['verb']> = Extract<Command, { verb: V }>;

/**
 * Drops an open transaction (RSET, a new EHLO/HELO, STARTTLS) and tells the backend. A message being
 * received by BDAT is aborted, so the backend never keeps half of it.
 */
export async function abandonTransaction(c: Connection): Promise<void> {
  const phase = c.phase;
  if (!inTransaction(phase)) return;
  if (phase.kind === 'chunking') phase.sink.abort('the transaction was reset');
  c.phase = { kind: 'greeted', helo: phase.helo };
  const backend = c.runtime.options.backend;
  if (backend.onReset) await c.hook('onReset', () => backend.onReset?.(c.session));
}

/** The EHLO keywords for this connection's state (RFC 5321 §4.1.1.1). */
export function capabilities(c: Connection): string[] {
  const o = c.runtime.options;
  const lines = [
    'PIPELINING',
    `SIZE ${o.limits.maxMessageSize}`,
    '8BITMIME',
    'SMTPUTF8',
    'ENHANCEDSTATUSCODES',
    'CHUNKING',
    'BINARYMIME',
    'DSN',
  ];
  if (c.endpoint.tls === 'starttls' && !c.tls) lines.push('STARTTLS');
  // RFC 8689 §4: offered only where the session is already protected.
  if (c.tls) lines.push('REQUIRETLS');
  const mechanisms = authMechanisms(c);
  if (mechanisms.length > 0 && !c.user) lines.push(`AUTH ${mechanisms.join(' ')}`);
  lines.push('HELP');
  return lines;
}

async function greet(c: Connection, name: string, esmtp: boolean): Promise<void> {
  if (c.phase.kind === 'closing') return;
  await abandonTransaction(c);
  const backend = c.runtime.options.backend;
  const outcome = await c.hook('onHelo', () => backend.onHelo?.(name, c.session));
  if (!outcome.ok) {
    c.send(outcome.reply);
    return;
  }
  c.phase = { kind: 'greeted', helo: { name, esmtp } };
  const host = c.runtime.options.hostname;
  c.send(esmtp ? reply(250, undefined, host, ...capabilities(c)) : reply(250, undefined, host));
}

export async function ehlo(c: Connection, command: Cmd<'EHLO'>): Promise<void> {
  await greet(c, command.domain, true);
}

export async function helo(c: Connection, command: Cmd<'HELO'>): Promise<void> {
  await greet(c, command.domain, false);
}

export async function rset(c: Connection, _command: Cmd<'RSET'>): Promise<void> {
  await abandonTransaction(c);
  c.send(Replies.reset);
}

export async function noop(c: Connection, _command: Cmd<'NOOP'>): Promise<void> {
  c.send(Replies.noop);
}

export async function quit(c: Connection, _command: Cmd<'QUIT'>): Promise<void> {
  c.send(Replies.bye);
  c.close('quit');
}

/** RFC 5321 §3.5.3: 252 says neither yes nor no, so VRFY cannot be used to find out who exists. */
export async function vrfy(c: Connection, _command: Cmd<'VRFY'>): Promise<void> {
  c.send(Replies.vrfy);
}

export async function help(c: Connection, _command: Cmd<'HELP'>): Promise<void> {
  c.send(Replies.help);
}

/** Whether the client has said EHLO or HELO. */
export function greeted(c: Connection): boolean {
  return heloOf(c.phase) !== undefined;
}
