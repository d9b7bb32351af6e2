/**
 * AUTH (RFC 4954) over the SASL server halves in sasl/. Offered and accepted only under TLS (538 5.7.11
 * before), unless allowPlaintextAuth says otherwise. Every failure looks the same on the wire whatever its
 * cause (unknown user or wrong password), each one is answered a little later than the one before (per client
 * address, across connections), and too many end the connection with 421.
 */
import { sleep } from '../core/timeout.js';
import type { Command } from '../protocol/index.js';
import {
  createSaslServer,
  decodeInitialResponse,
  decodeResponseLine,
  encodeChallenge,
  type SaslClientLine,
  type SaslFailureReason,
  type SaslServer,
  type SaslServerStep,
  serverMechanisms,
} from '../sasl/index.js';
import type { Connection } from './connection.js';
import { Replies, reply, type ServerReply } from './replies.js';
import { inTransaction } from './state.js';

type Cmd<V extends Command['verb']> = Extract<Command, { verb: V }>;

const FAILURE_REPLIES: Readonly<Record<SaslFailureReason, ServerReply>> = {
  credentials: Replies.authFailed,
  protocol: Replies.authBadResponse,
  temporary: reply(454, '4.7.0', 'Temporary authentication failure'),
  'mechanism-too-weak': reply(534, '5.7.9', 'Authentication mechanism is too weak'),
};

/** The mechanisms this connection offers, strongest first; none before TLS (unless allowPlaintextAuth). */
export function authMechanisms(c: Connection): string[] {
  const auth = c.runtime.options.auth;
  if (!auth) return [];
  const secure = c.tls !== undefined;
  if (!secure && !auth.allowPlaintextAuth) return [];
  const bindings = c.channelBindings;
  const offered = serverMechanisms(auth.store, {
    tls: true,
    channelBinding: bindings !== undefined && Object.keys(bindings).length > 0,
    allowCramMd5: auth.allowCramMd5 === true,
  });
  if (!auth.mechanisms) return offered;
  return auth.mechanisms.map((m) => m.toUpperCase()).filter((m) => offered.includes(m));
}

/** What the client answered to a 334: a decoded line, or the connection ended. */
async function readResponse(c: Connection): Promise<SaslClientLine | 'ended'> {
  const read = await c.readLine();
  if (read.kind === 'line') {
    c.transcriptLine('in', '[redacted]');
    return decodeResponseLine(read.line.toString('latin1'));
  }
  if (read.kind === 'too-long') return { kind: 'malformed' };
  if (read.kind === 'timeout') c.send(Replies.idleTimeout);
  c.close(read.kind === 'timeout' ? 'timeout in AUTH' : 'client closed during AUTH');
  return 'ended';
}

/** Sends a 334 and reads the answer; undefined when the exchange ended (reply already sent). */
async function challenge(c: Connection, data: Buffer): Promise<Buffer | undefined> {
  c.send(reply(334, undefined, encodeChallenge(data)));
  const answer = await readResponse(c);
  if (answer === 'ended') return undefined;
  if (answer.kind === 'cancel') {
    c.bad(Replies.authCancelled);
    return undefined;
  }
  if (answer.kind === 'malformed') {
    c.bad(Replies.authBadResponse);
    return undefined;
  }
  return answer.data;
}

/** The contract says mechanisms never reject; should one do so anyway, that is a temporary failure. */
async function next(run: () => Promise<SaslServerStep>): Promise<SaslServerStep> {
  try {
    return await run();
  } catch {
    return { type: 'failure', reason: 'temporary' };
  }
}

export async function auth(c: Connection, command: Cmd<'AUTH'>): Promise<void> {
  const options = c.runtime.options.auth;
  if (!options) return c.bad(Replies.authUnavailable);
  if (c.phase.kind === 'connected') return c.bad(Replies.badSequence('send EHLO first'));
  if (inTransaction(c.phase)) return c.bad(Replies.badSequence('AUTH is not allowed during a transaction'));
  if (c.user) return c.bad(Replies.authAlready);
  if (!c.tls && !options.allowPlaintextAuth) return c.bad(Replies.encryptionRequired);
  if (!authMechanisms(c).includes(command.mechanism)) return c.bad(Replies.mechanismUnavailable);

  let server: SaslServer;
  try {
    server = createSaslServer(command.mechanism, options.store, {
      channelBinding: c.channelBindings,
      secretForFakeSalts: c.runtime.fakeSaltSecret,
      hostname: c.runtime.options.hostname,
    });
  } catch {
    return c.bad(Replies.mechanismUnavailable);
  }
  const initial = decodeInitialResponse(command.initialResponse);
  if (initial?.kind === 'malformed' || initial?.kind === 'cancel') return c.bad(Replies.authBadResponse);

  let step = await next(() => server.start(initial?.data));
  let finalData = false;
  for (;;) {
    if (step.type === 'challenge') {
      const answer = await challenge(c, step.data);
      if (answer === undefined) return;
      step = await next(() => server.next(answer));
      continue;
    }
    if (step.type === 'success' && step.data && !finalData) {
      // SCRAM's server-final message goes in a 334; the client confirms with an empty line (RFC 4954 §4).
      finalData = true;
      const answer = await challenge(c, step.data);
      if (answer === undefined) return;
      step = await next(() => server.next(answer));
      continue;
    }
    if (step.type === 'failure' && step.errorChallenge) {
      // OAuth: the JSON error goes in a 334 and the client's dummy answer comes before the 535.
      c.send(reply(334, undefined, encodeChallenge(step.errorChallenge)));
      if ((await readResponse(c)) === 'ended') return;
      step = { type: 'failure', reason: step.reason };
      continue;
    }
    break;
  }
  if (step.type === 'success') {
    await succeed(c, command.mechanism, step.user, step.authzid);
    return;
  }
  await fail(c, command.mechanism, step.reason);
}

async function succeed(
  c: Connection,
  mechanism: string,
  user: string,
  authzid: string | undefined,
): Promise<void> {
  const backend = c.runtime.options.backend;
  const identity = { user, mechanism, authzid };
  if (backend.onAuth) {
    const outcome = await c.hook('onAuth', () => backend.onAuth?.(identity, c.session));
    if (!outcome.ok) {
      c.log.info('auth refused by onAuth', { session: c.id, mechanism });
      c.send(outcome.reply);
      return;
    }
  } else if (authzid !== undefined && authzid !== user) {
    // Acting as someone else needs a hook that says yes.
    await fail(c, mechanism, 'credentials');
    return;
  }
  c.runtime.authThrottle.succeed(c.remote.address);
  c.setUser(user);
  c.log.info('auth', { session: c.id, user, mechanism });
  c.send(Replies.authOk);
}

async function fail(c: Connection, mechanism: string, reason: SaslFailureReason): Promise<void> {
  c.log.warn('auth failed', { session: c.id, remote: c.remote.address, mechanism, reason });
  if (reason === 'temporary') {
    c.send(FAILURE_REPLIES.temporary);
    return;
  }
  const delay = c.runtime.authThrottle.fail(c.remote.address, c.runtime.options.limits);
  await sleep(delay);
  c.send(FAILURE_REPLIES[reason]);
  if (c.countAuthFailure()) {
    c.send(Replies.tooManyAuthFailures);
    c.close('too many failed AUTH attempts');
  }
}
