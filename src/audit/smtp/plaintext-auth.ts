/**
 * AUTH before TLS: does the server go on with a plaintext AUTH PLAIN attempt, whatever its EHLO offered?
 * The credential is an obviously fake one, so a server that processes it answers 535 (or, alarmingly, 235).
 */
import * as commands from '../../protocol/commands.js';
import { formatReply } from '../../protocol/index.js';
import type { SmtpScanResult } from '../types.js';
import { describeError, type ProbeContext, ProbeSession, rethrowAbort } from './session.js';
import { authAttemptProcessed } from './verdicts.js';

/** base64 of "\0postern-audit\0invalid": no server has this user with this password. */
export const FAKE_PLAIN_RESPONSE = Buffer.from('\0postern-audit\0invalid', 'latin1').toString('base64');

type AuthAttempt = Omit<SmtpScanResult['authBeforeTls'], 'offered'>;

/**
 * On a fresh plaintext connection: greeting, EHLO, then AUTH PLAIN with the fake credential. A 334 is
 * cancelled with "*". Connection problems give `accepted: null` with the error as the reply.
 */
export async function probePlaintextAuth(ctx: ProbeContext): Promise<AuthAttempt> {
  let session: ProbeSession | undefined;
  try {
    const opened = await ProbeSession.open(ctx);
    session = opened.session;
    if (opened.greeting.code !== 220) {
      return { accepted: null, reply: `greeting: ${formatReply(opened.greeting)}` };
    }
    await session.ehlo();
    const reply = await session.command(
      commands.auth('PLAIN', FAKE_PLAIN_RESPONSE),
      'auth',
      'AUTH PLAIN <fake credential>',
    );
    if (reply.code === 334) await session.command(commands.saslCancel(), 'auth').catch(() => undefined);
    return { accepted: authAttemptProcessed(reply), reply: formatReply(reply) };
  } catch (err) {
    rethrowAbort(err);
    return { accepted: null, reply: describeError(err) };
  } finally {
    await session?.quit();
  }
}
