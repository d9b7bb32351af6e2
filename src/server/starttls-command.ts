/**
 * STARTTLS (RFC 3207). The server forgets everything from before the handshake: the client must EHLO again,
 * and a transaction or login from before is gone (§4.2).
 *
 * A client that sent more after STARTTLS without waiting for the 220 is refused and disconnected: those
 * bytes were sent in plaintext, and a man in the middle could have put them there to have them read as if
 * they came over TLS (CVE-2011-0411 class). Bytes that arrive after the 220 is sent go to the TLS layer,
 * where plaintext makes the handshake fail; either way they are never answered as commands.
 */
import type { Command } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { Replies } from './replies.js';
import { abandonTransaction } from './session-commands.js';

type Cmd<V extends Command['verb']> = Extract<Command, { verb: V }>;

export async function starttls(c: Connection, _command: Cmd<'STARTTLS'>): Promise<void> {
  if (c.endpoint.tls !== 'starttls') return c.bad(Replies.notImplemented);
  if (c.tls) return c.bad(Replies.badSequence('TLS is already active'));
  if (c.pendingInput > 0) {
    c.log.warn('commands pipelined after STARTTLS', { session: c.id, remote: c.remote.address });
    c.send(Replies.pipelinedAfterStarttls);
    c.close('commands pipelined after STARTTLS');
    return;
  }
  await abandonTransaction(c);
  c.send(Replies.readyForTls);
  if (!(await c.upgradeToTls())) return;
  c.phase = { kind: 'connected' };
  c.setUser(undefined);
}
