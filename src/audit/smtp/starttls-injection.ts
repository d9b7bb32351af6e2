/**
 * STARTTLS command injection (CVE-2011-0411 class): "STARTTLS\r\nNOOP\r\n" leaves in one write, as a man in
 * the middle would append a command to the client's STARTTLS. After the handshake we send only QUIT: a safe
 * server's first reply inside TLS is 221 to our QUIT; a vulnerable one first answers the NOOP it kept from
 * before TLS. A server that refuses the pipelined STARTTLS is not vulnerable. When the test cannot be run to
 * its end (no reply to STARTTLS, a handshake that fails or times out, no reply inside TLS) there is no verdict:
 * `vulnerable: null`, with the evidence saying why it was not tested.
 */
import * as commands from '../../protocol/commands.js';
import { formatReply } from '../../protocol/index.js';
import type { SmtpScanResult } from '../types.js';
import { describeError, type ProbeContext, ProbeSession, rethrowAbort } from './session.js';

type Injection = SmtpScanResult['starttlsInjection'];

/** Runs the injection test on a fresh connection (STARTTLS targets only). */
export async function probeStarttlsInjection(ctx: ProbeContext): Promise<Injection> {
  let session: ProbeSession | undefined;
  try {
    const opened = await ProbeSession.open(ctx);
    session = opened.session;
    if (opened.greeting.code !== 220) {
      return { vulnerable: null, evidence: `greeting: ${formatReply(opened.greeting)}` };
    }
    const greeted = await session.ehlo();
    if (!greeted.capabilities.starttls) return { vulnerable: null, evidence: 'STARTTLS is not offered' };
    return await inject(session);
  } catch (err) {
    rethrowAbort(err);
    return notTested(describeError(err));
  } finally {
    await session?.quit();
  }
}

async function inject(session: ProbeSession): Promise<Injection> {
  session.write(commands.starttls() + commands.noop());
  let ready: Awaited<ReturnType<ProbeSession['read']>>;
  try {
    ready = await session.read('starttls');
  } catch (err) {
    rethrowAbort(err);
    return notTested(`no reply to STARTTLS with a command pipelined after it (${describeError(err)})`);
  }
  if (ready.code !== 220) {
    return {
      vulnerable: false,
      evidence: `refused STARTTLS with a command pipelined after it: ${formatReply(ready)}`,
    };
  }
  const plaintext = session.unread > 0;
  try {
    await session.upgrade();
  } catch (err) {
    rethrowAbort(err);
    const why = plaintext ? 'it answered the pipelined NOOP in plaintext, then ' : '';
    return notTested(`${why}the TLS handshake failed after "220 ready": ${describeError(err)}`);
  }
  session.write(commands.quit());
  let first: Awaited<ReturnType<ProbeSession['read']>>;
  try {
    first = await session.read('quit');
    session.destroy();
  } catch (err) {
    rethrowAbort(err);
    return notTested(`no reply inside TLS (${describeError(err)})`);
  }
  if (first.code === 221) {
    const note = plaintext ? ' (it answered the pipelined NOOP in plaintext, before TLS)' : '';
    return {
      vulnerable: false,
      evidence: `the first reply inside TLS answered our QUIT: ${formatReply(first)}${note}`,
    };
  }
  return {
    vulnerable: true,
    evidence: `answered the NOOP pipelined after STARTTLS inside TLS: ${formatReply(first)}`,
  };
}

/** No verdict: the test could not be run to its end, for the reason given. */
function notTested(why: string): Injection {
  return { vulnerable: null, evidence: `not tested: ${why}` };
}
