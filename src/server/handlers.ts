/**
 * The command table: one typed handler per verb. The mapped type makes the compiler check that every verb
 * has a handler and that each handler gets exactly its own command shape.
 */
import type { Command, Verb } from '../protocol/index.js';
import { auth } from './auth-command.js';
import type { Connection } from './connection.js';
import { bdat, data, discardChunk } from './data-commands.js';
import { mail, rcpt } from './envelope-commands.js';
import { Replies } from './replies.js';
import { ehlo, helo, help, noop, quit, rset, vrfy } from './session-commands.js';
import { starttls } from './starttls-command.js';

export type Handler<V extends Verb> = (
  c: Connection,
  command: Extract<Command, { verb: V }>,
) => Promise<void>;

const HANDLERS: { readonly [V in Verb]: Handler<V> } = {
  EHLO: ehlo,
  HELO: helo,
  MAIL: mail,
  RCPT: rcpt,
  DATA: data,
  BDAT: bdat,
  RSET: rset,
  NOOP: noop,
  QUIT: quit,
  STARTTLS: starttls,
  VRFY: vrfy,
  HELP: help,
  AUTH: auth,
};

/** With requireTls, what a client may do before STARTTLS. */
const BEFORE_TLS: ReadonlySet<Verb> = new Set(['EHLO', 'HELO', 'STARTTLS', 'NOOP', 'RSET', 'QUIT', 'HELP']);

/** Runs the handler of a parsed command, after the requireTls gate. */
export async function dispatchCommand(c: Connection, command: Command): Promise<void> {
  if (c.runtime.options.requireTls && !c.tls && !BEFORE_TLS.has(command.verb)) {
    // BDAT data follows its command whatever the reply; it must be read to stay in step.
    if (command.verb === 'BDAT' && !(await discardChunk(c, command.size))) return;
    c.bad(Replies.tlsRequired);
    return;
  }
  const handler = HANDLERS[command.verb] as Handler<Verb>;
  await handler(c, command as never);
}
