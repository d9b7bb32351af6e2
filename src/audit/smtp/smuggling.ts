/**
 * SMTP smuggling (opt-in: it sends real mail). For each ending, one transaction whose body holds the ending
 * followed by a whole second transaction (MAIL, RCPT, DATA, a message), then the proper CRLF.CRLF. After the
 * reply to the data we send QUIT and read every reply up to its 221:
 * - more than one reply before the 221: the ending ended DATA and the smuggled commands were answered:
 *   'accepted', whatever the first reply said (a server may refuse the truncated first message and still
 *   run the smuggled transaction);
 * - only one reply, a 4xx/5xx (or the server hung up without one): 'rejected';
 * - only one reply, a 2xx: the ending stayed inside the message: 'not-end-of-data'.
 */
import * as commands from '../../protocol/commands.js';
import { formatReply, type Reply } from '../../protocol/index.js';
import { mapLimit } from '../connect.js';
import type { SmugglingResult } from '../types.js';
import { describeError, openReady, type ProbeContext, type ProbeSession, rethrowAbort } from './session.js';
import { escapeEnding } from './verdicts.js';

/** The endings of issue 6, in its order. */
export const SMUGGLING_ENDINGS: readonly string[] = [
  '\n.\n',
  '\n.\r',
  '\r.\n',
  '\r.\r',
  '\n.\r\n',
  '\r.\r\n',
  '\r\n\x00.\r\n',
  '\r\n.\r\r\n',
];

/** How many endings are tested at once (one connection each). */
const CONCURRENCY = 4;
/** Most replies read after the data; a server reading the smuggled message as commands answers each line. */
const MAX_REPLIES = 32;

/**
 * The DATA bytes for one ending: a small message, the ending, a second transaction, the final CRLF.CRLF.
 * `from` and `to` must have passed commands.mailFrom / rcptTo (they are checked for CR, LF and NUL there).
 */
export function smugglingPayload(ending: string, from: string, to: string): string {
  const shown = escapeEnding(ending);
  const headers = (subject: string) => `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n\r\n`;
  return (
    headers(`Postern audit: SMTP smuggling test, ending ${shown}`) +
    'This message was sent by postern audit --smuggling to test how the server ends DATA.\r\n' +
    `The ending ${shown} and a second SMTP transaction follow` +
    ending +
    commands.mailFrom(from) +
    commands.rcptTo(to) +
    commands.data() +
    headers(`Postern audit: SMUGGLED message, ending ${shown}`) +
    `If this arrived as a message of its own, the server took ${shown} as the end of DATA.\r\n` +
    '.\r\n'
  );
}

/**
 * The verdict from the replies after the data was sent: `replies[0]` answers the data, the rest came before
 * the reply to our QUIT (which is not in the list). `closed` = the server hung up before answering QUIT.
 * Any reply after the first means the server read part of our data as commands, so the ending ended DATA.
 *
 * @example classifySmuggling([reply554, reply250, reply250, reply354, reply250], false).outcome // => 'accepted'
 */
export function classifySmuggling(
  replies: readonly Reply[],
  closed: boolean,
): Pick<SmugglingResult, 'outcome'> & { readonly why: string } {
  const first = replies[0];
  if (first === undefined) {
    return closed
      ? { outcome: 'rejected', why: 'the server closed the connection without accepting the message' }
      : { outcome: 'error', why: 'no reply to the message' };
  }
  if (replies.length === 1) {
    return first.code >= 400
      ? { outcome: 'rejected', why: 'the server refused the message' }
      : { outcome: 'not-end-of-data', why: 'one message: the ending stayed inside the data' };
  }
  const mail = replies[1];
  const ran = mail !== undefined && mail.code >= 200 && mail.code < 300;
  const head =
    first.code >= 400 ? 'the ending ended DATA (the truncated message was refused)' : 'the ending ended DATA';
  return {
    outcome: 'accepted',
    why: ran
      ? `${head} and the smuggled transaction was accepted`
      : `${head}; the smuggled commands were answered (refused)`,
  };
}

/** Runs every ending, each on its own connection (with STARTTLS when offered, unless `upgrade` is false). */
export async function probeSmuggling(
  ctx: ProbeContext,
  envelope: { readonly from: string; readonly to: string },
  upgrade = true,
): Promise<SmugglingResult[]> {
  // Builds (and so checks) both command lines before anything is sent.
  const mail = commands.mailFrom(envelope.from);
  const rcpt = commands.rcptTo(envelope.to);
  return mapLimit(SMUGGLING_ENDINGS, CONCURRENCY, (ending) =>
    probeEnding(ctx, ending, mail, rcpt, envelope, upgrade),
  );
}

async function probeEnding(
  ctx: ProbeContext,
  ending: string,
  mail: string,
  rcpt: string,
  envelope: { readonly from: string; readonly to: string },
  upgrade: boolean,
): Promise<SmugglingResult> {
  const shown = escapeEnding(ending);
  let session: ProbeSession | undefined;
  try {
    session = (await openReady(ctx, upgrade)).session;
    for (const [line, phase, want] of [
      [mail, 'mail', 2],
      [rcpt, 'rcpt', 2],
      [commands.data(), 'data', 3],
    ] as const) {
      const reply = await session.command(line, phase);
      if (Math.floor(reply.code / 100) !== want) {
        return {
          ending: shown,
          outcome: 'error',
          evidence: `not tested: ${line.trim()} got ${formatReply(reply)}`,
        };
      }
    }
    const { replies, closed } = await sendAndCollect(
      session,
      smugglingPayload(ending, envelope.from, envelope.to),
    );
    const { outcome, why } = classifySmuggling(replies, closed);
    const shownReplies = replies.map(formatReply).join(' | ');
    return { ending: shown, outcome, evidence: `${why}; replies: ${shownReplies || '(none)'}` };
  } catch (err) {
    rethrowAbort(err);
    return { ending: shown, outcome: 'error', evidence: describeError(err) };
  } finally {
    await session?.quit();
  }
}

/** Writes the data, reads its reply, then QUIT and every reply up to the 221 (or the close). */
async function sendAndCollect(
  session: ProbeSession,
  payload: string,
): Promise<{ replies: Reply[]; closed: boolean }> {
  const replies: Reply[] = [];
  session.write(payload);
  try {
    replies.push(await session.read('data'));
    session.write(commands.quit());
    while (replies.length < MAX_REPLIES) {
      const reply = await session.read('quit');
      if (reply.code === 221) break;
      replies.push(reply);
    }
  } catch (err) {
    rethrowAbort(err);
    const code = (err as { code?: string }).code;
    if (code === 'ECONNECTION_CLOSED' || code === 'ECONNECTION') return { replies, closed: true };
    if (replies.length === 0) throw err;
  } finally {
    session.destroy();
  }
  return { replies, closed: false };
}
