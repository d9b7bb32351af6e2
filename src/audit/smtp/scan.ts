/**
 * The SMTP half of `postern audit`: banner, EHLO before and after TLS, STARTTLS, AUTH before TLS, STARTTLS
 * command injection, VRFY/EXPN, the extensions that matter; and, when asked, SMTP smuggling and an open-relay
 * test. The independent checks run on their own connections in parallel.
 */
import { randomBytes } from 'node:crypto';
import { SmtpReplyError } from '../../core/errors.js';
import * as commands from '../../protocol/commands.js';
import { escapeControls, formatReply, type Reply } from '../../protocol/index.js';
import type { AuditTarget, SmtpScanResult } from '../types.js';
import { probePlaintextAuth } from './plaintext-auth.js';
import { checkRelayInput, DEFAULT_OUTSIDE_DOMAIN, probeRelay, type RelayTestOptions } from './relay.js';
import {
  describeError,
  type Greeted,
  openReady,
  type ProbeContext,
  ProbeSession,
  probeContext,
  rethrowAbort,
} from './session.js';
import { probeSmuggling } from './smuggling.js';
import { probeStarttlsInjection } from './starttls-injection.js';
import { evidence, lookupEnabled, sizeOf, vrfyEnumerates } from './verdicts.js';

export interface SmtpScanOptions {
  /** Passed to the TLS layer; certificates are never verified here (that is the certificate probe's job). */
  readonly ca?: Buffer | undefined;
  /** Accepted for symmetry with the other probes: the SMTP checks always skip certificate verification. */
  readonly insecure?: boolean | undefined;
  /** Opt-in: send one test message per smuggling ending, from and to these addresses. */
  readonly smuggling?: { readonly from: string; readonly to: string } | undefined;
  /** Opt-in: MAIL/RCPT to an outside domain in the usual relay tricks (never DATA). */
  readonly relayTest?: RelayTestOptions | undefined;
  readonly signal?: AbortSignal | undefined;
}

type Lookup = SmtpScanResult['vrfy'];

interface SessionFindings {
  readonly banner: string;
  /** The plaintext EHLO (STARTTLS targets). */
  readonly before: Greeted | null;
  /** The EHLO under TLS. */
  readonly after: Greeted | null;
  readonly vrfy: Lookup;
  readonly expn: Lookup;
  readonly notes: readonly string[];
}

/**
 * Audits the SMTP side of one target. Throws (a typed PosternError) only when there is nothing to report:
 * no connection, no greeting, a refused greeting, or an abort. Any later failure leaves its fields null and
 * says why in the evidence or in `notes`.
 *
 * @example const smtp = await scanSmtp({ host: 'mx.example.org', port: 25, mode: 'starttls' });
 */
export async function scanSmtp(target: AuditTarget, options: SmtpScanOptions = {}): Promise<SmtpScanResult> {
  // The opt-in inputs are checked before anything is sent.
  if (options.smuggling) {
    commands.mailFrom(options.smuggling.from);
    commands.rcptTo(options.smuggling.to);
  }
  if (options.relayTest) {
    checkRelayInput('outside domain', options.relayTest.outsideDomain ?? DEFAULT_OUTSIDE_DOMAIN);
    if (options.relayTest.from !== undefined) checkRelayInput('MAIL FROM', options.relayTest.from);
  }
  const ctx = probeContext(target, options);
  const starttls = target.mode === 'starttls';
  const [main, auth, injection] = await Promise.allSettled([
    probeSession(ctx),
    starttls ? probePlaintextAuth(ctx) : undefined,
    starttls ? probeStarttlsInjection(ctx) : undefined,
  ]);
  for (const settled of [main, auth, injection]) if (settled.status === 'rejected') throw settled.reason;
  const found = (main as PromiseFulfilledResult<SessionFindings>).value;
  const authAttempt = (
    auth as PromiseFulfilledResult<Awaited<ReturnType<typeof probePlaintextAuth>> | undefined>
  ).value;
  const injected = (injection as PromiseFulfilledResult<SmtpScanResult['starttlsInjection'] | undefined>)
    .value;

  const notes = [...found.notes];
  // After a failed STARTTLS the opt-in tests run in plaintext rather than fail the same way again.
  const optIn = await runOptIn(ctx, options, found.after !== null, notes);
  const best = found.after ?? found.before;
  const keywords = best?.keywords ?? [];
  const caps = best?.capabilities;
  return {
    banner: found.banner,
    ehloBeforeTls: starttls ? (found.before?.keywords ?? null) : null,
    ehloAfterTls: found.after?.keywords ?? null,
    starttlsOffered: starttls ? (found.before?.capabilities.starttls ?? null) : null,
    starttlsAfterTls: found.after ? found.after.capabilities.starttls : null,
    authBeforeTls: {
      offered: starttls ? (found.before?.capabilities.auth ?? []).map(escapeControls) : [],
      accepted: authAttempt?.accepted ?? null,
      ...(authAttempt?.reply !== undefined ? { reply: authAttempt.reply } : {}),
    },
    authAfterTls: (found.after?.capabilities.auth ?? []).map(escapeControls),
    starttlsInjection: injected ?? { vulnerable: null, evidence: 'not applicable: implicit TLS' },
    vrfy: found.vrfy,
    expn: found.expn,
    size: sizeOf(keywords),
    smtputf8: caps?.smtpUtf8 ?? false,
    requireTls: caps?.requireTls ?? false,
    chunking: caps?.chunking ?? false,
    pipelining: caps?.pipelining ?? false,
    ...optIn,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Smuggling and relay, after the main checks; a failure becomes a note, not a failed scan. */
async function runOptIn(
  ctx: ProbeContext,
  options: SmtpScanOptions,
  upgrade: boolean,
  notes: string[],
): Promise<Pick<SmtpScanResult, 'smuggling' | 'relay' | 'relaySource'>> {
  const out: {
    smuggling?: SmtpScanResult['smuggling'];
    relay?: SmtpScanResult['relay'];
    relaySource?: SmtpScanResult['relaySource'];
  } = {};
  const smuggling = options.smuggling;
  const relayTest = options.relayTest;
  await Promise.all([
    smuggling &&
      probeSmuggling(ctx, smuggling, upgrade).then((r) => {
        out.smuggling = r;
      }),
    relayTest &&
      probeRelay(ctx, relayTest, upgrade).then(
        (r) => {
          out.relay = r.results;
          if (r.source !== undefined) out.relaySource = r.source;
        },
        (err: unknown) => {
          rethrowAbort(err);
          out.relay = [];
          notes.push(`relay test not run: ${describeError(err)}`);
        },
      ),
  ]);
  return out;
}

/** The main connection: greeting, EHLO, STARTTLS and EHLO again, then VRFY and EXPN. */
async function probeSession(ctx: ProbeContext): Promise<SessionFindings> {
  const notes: string[] = [];
  const { session, greeting } = await ProbeSession.open(ctx);
  let live: ProbeSession | undefined = session;
  try {
    if (greeting.code !== 220) {
      throw new SmtpReplyError(
        'ESMTP_REJECTED',
        `${ctx.label} refused the connection: ${formatReply(greeting)}`,
        {
          reply: greeting,
          phase: 'greeting',
        },
      );
    }
    const first = await session.ehlo();
    if (first.helo) notes.push('EHLO was refused; HELO worked, so the server announces no extensions');
    let before: Greeted | null = null;
    let after: Greeted | null = null;
    if (ctx.target.mode === 'implicit') {
      after = first;
    } else {
      before = first;
      if (first.capabilities.starttls) {
        try {
          after = await session.starttls();
        } catch (err) {
          rethrowAbort(err);
          notes.push(`STARTTLS did not work, so nothing after TLS was seen: ${describeError(err)}`);
          session.destroy();
          live = undefined;
        }
      }
    }
    if (!live) {
      try {
        live = (await openReady(ctx, false)).session;
      } catch (err) {
        rethrowAbort(err);
        notes.push(`VRFY and EXPN not tested: ${describeError(err)}`);
      }
    }
    const { vrfy, expn } = live
      ? await probeLookups(live)
      : { vrfy: { enabled: null, reply: 'not tested' }, expn: { enabled: null, reply: 'not tested' } };
    return { banner: formatReply(greeting), before, after, vrfy, expn, notes };
  } finally {
    await live?.quit();
    session.destroy();
  }
}

/** VRFY postmaster (and an unknown user after a 252, to see whether VRFY tells them apart), EXPN postmaster. */
async function probeLookups(session: ProbeSession): Promise<{ vrfy: Lookup; expn: Lookup }> {
  let vrfy: Lookup;
  let expn: Lookup;
  try {
    const postmaster = await session.command(commands.vrfy('postmaster'), 'noop');
    vrfy = { enabled: lookupEnabled(postmaster), reply: formatReply(postmaster) };
    if (postmaster.code === 252) {
      const name = `postern-audit-${randomBytes(4).toString('hex')}`;
      const unknown: Reply = await session.command(commands.vrfy(name), 'noop');
      if (vrfyEnumerates(postmaster, unknown)) {
        const told = `${evidence(`VRFY ${name}`, unknown)} (unknown users are told apart)`;
        vrfy = { enabled: true, reply: `${evidence('VRFY postmaster', postmaster)}; ${told}` };
      }
    }
  } catch (err) {
    rethrowAbort(err);
    const failed = { enabled: null, reply: `no answer: ${describeError(err)}` };
    return { vrfy: failed, expn: { enabled: null, reply: 'not tested: the connection failed during VRFY' } };
  }
  try {
    const reply = await session.command('EXPN postmaster\r\n', 'noop');
    expn = { enabled: lookupEnabled(reply), reply: formatReply(reply) };
  } catch (err) {
    rethrowAbort(err);
    expn = { enabled: null, reply: `no answer: ${describeError(err)}` };
  }
  return { vrfy, expn };
}
