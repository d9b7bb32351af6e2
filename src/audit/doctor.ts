/**
 * `postern doctor`: why sending through a server fails, one verdict per step — DNS, TCP, what the port speaks,
 * TLS, EHLO, STARTTLS, AUTH, MAIL FROM — each with the exact fix, and at the end the `postern send` command that
 * works when one was found. The session steps run the real client (SmtpSession), so "ok" means `postern send`
 * gets through that step the same way.
 */
import type { Socket } from 'node:net';
import { SmtpSession } from '../client/index.js';
import { isPosternError, type PosternError, type Secret } from '../core/index.js';
import { type MxHost, type ResolvedAddress, resolveHost, resolveMx, startTls } from '../net/index.js';
import { formatReply, type Reply } from '../protocol/index.js';
import { type CertificateInfo, isIpLiteral } from '../tls/index.js';
import { DEFAULT_AUDIT_TIMEOUT, openTlsProbe } from './connect.js';
import { sendCommand } from './doctor/command.js';
import { Conversation } from './doctor/conversation.js';
import { openPort, sniffPort } from './doctor/port.js';
import {
  certificateName,
  certificateText,
  type DoctorStep,
  type DoctorStepName,
  failed,
  protocolStep,
  type SessionMode,
  said,
  step,
  tcpFailure,
  tlsFailure,
} from './doctor/steps.js';
import { terminalSafe } from './render-text.js';

export type { DoctorStatus, DoctorStep, DoctorStepName } from './doctor/steps.js';

export interface DoctorOptions {
  readonly host: string;
  /** Default: 465 for --tls implicit, 587 otherwise (and 465 too when neither port nor mode is given). */
  readonly port?: number | undefined;
  /** Default: what the port speaks. */
  readonly tls?: SessionMode | undefined;
  /** CA certificates (PEM) trusted instead of the system roots. */
  readonly ca?: Buffer | undefined;
  readonly servername?: string | undefined;
  readonly auth?: { readonly user: string; readonly pass: Secret } | undefined;
  /** MAIL FROM for the sender-policy step; default the user name when it is an address. */
  readonly from?: string | undefined;
  readonly to?: readonly string[] | undefined;
  readonly ehloName?: string | undefined;
  /** Milliseconds per step; default 10000. */
  readonly timeout?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly lookup?: ((host: string) => Promise<readonly ResolvedAddress[]>) | undefined;
  readonly resolveMx?: ((domain: string) => Promise<readonly MxHost[]>) | undefined;
  /** How the final command names the CA file and the password source: the user's own flags. */
  readonly command?: {
    readonly caFile?: string | undefined;
    readonly passwordArgs?: readonly string[] | undefined;
  };
}

export interface DoctorReport {
  readonly target: { readonly host: string; readonly port: number | null; readonly tls: SessionMode | null };
  /** In the order the client meets them. */
  readonly steps: readonly DoctorStep[];
  /** The `postern send` command line that works (argument list and shell line), when one was found. */
  readonly command?: ReturnType<typeof sendCommand> | undefined;
}

/** Human titles, for the report. */
export const STEP_TITLES: Readonly<Record<DoctorStepName, string>> = {
  dns: 'DNS',
  tcp: 'TCP connect',
  protocol: 'What the port speaks',
  tls: 'TLS handshake',
  ehlo: 'EHLO',
  starttls: 'STARTTLS',
  'auth-mechanisms': 'AUTH mechanisms',
  auth: 'AUTH',
  mail: 'MAIL FROM',
};

const ORDER: Readonly<Record<SessionMode, readonly DoctorStepName[]>> = {
  implicit: ['dns', 'tcp', 'protocol', 'tls', 'ehlo', 'starttls', 'auth-mechanisms', 'auth', 'mail'],
  starttls: ['dns', 'tcp', 'protocol', 'ehlo', 'starttls', 'tls', 'auth-mechanisms', 'auth', 'mail'],
  none: ['dns', 'tcp', 'protocol', 'ehlo', 'starttls', 'tls', 'auth-mechanisms', 'auth', 'mail'],
};

interface Plan {
  readonly host: string;
  readonly port: number;
  readonly mode: SessionMode;
  readonly servername?: string | undefined;
  readonly insecure?: boolean | undefined;
}

interface Attempt {
  readonly session?: SmtpSession | undefined;
  readonly error?: unknown;
  readonly conversation: Conversation;
}

class Diagnosis {
  readonly #steps = new Map<DoctorStepName, DoctorStep>();
  constructor(readonly o: DoctorOptions) {}

  set(s: DoctorStep): void {
    this.#steps.set(s.step, s);
  }
  get(name: DoctorStepName): DoctorStep | undefined {
    return this.#steps.get(name);
  }

  /** Steps in order; one never reached names the failure before it. */
  report(port: number | null, mode: SessionMode | null, command?: DoctorReport['command']): DoctorReport {
    const order = ORDER[mode ?? this.o.tls ?? 'starttls'];
    let stop: DoctorStepName | undefined;
    const steps = order.map((name) => {
      const found = this.#steps.get(name);
      if (found?.status === 'fail') stop = name;
      return safeStep(
        found ?? step(name, 'skip', stop ? `not reached: ${STEP_TITLES[stop]} failed` : 'not tested'),
      );
    });
    return { target: { host: this.o.host, port, tls: mode }, steps, ...(command ? { command } : {}) };
  }
}

/**
 * A step whose text cannot drive a terminal: verdicts quote greetings, replies, certificate names and error
 * messages, all of which the server chose. Controls become visible escapes; a detail keeps its line breaks.
 */
function safeStep(s: DoctorStep): DoctorStep {
  return {
    ...s,
    verdict: terminalSafe(s.verdict),
    ...(s.detail !== undefined ? { detail: s.detail.split('\n').map(terminalSafe).join('\n') } : {}),
    ...(s.fix !== undefined ? { fix: terminalSafe(s.fix) } : {}),
  };
}

/**
 * Diagnoses the path to an SMTP server step by step. Never throws for what it finds (a failure is a step's
 * verdict); only an abort or a bug ends it early.
 *
 * @example const report = await diagnose({ host: 'smtp.example.com', port: 587, auth: { user, pass } });
 */
export async function diagnose(o: DoctorOptions): Promise<DoctorReport> {
  const timeout = o.timeout ?? DEFAULT_AUDIT_TIMEOUT;
  const d = new Diagnosis(o);

  const dns = await dnsStep(o, timeout);
  d.set(dns);
  if (dns.status === 'fail') return d.report(o.port ?? null, o.tls ?? null);

  const candidates =
    o.port !== undefined ? [o.port] : o.tls === 'implicit' ? [465] : o.tls ? [587] : [587, 465];
  const refused: string[] = [];
  let opened: { port: number; socket: Socket; address: string } | undefined;
  for (const port of candidates) {
    const result = await openPort({ host: o.host, port, timeout, signal: o.signal, lookup: o.lookup });
    if ('socket' in result) {
      opened = { port, ...result };
      break;
    }
    refused.push(`port ${port}: ${said(result)}`);
    if (port === candidates.at(-1)) {
      const s = tcpFailure(port, result);
      const all = `none of ports ${candidates.join(' and ')} answers`;
      d.set(candidates.length > 1 ? { ...s, verdict: all, detail: refused.join('\n') } : s);
    }
  }
  if (!opened) return d.report(o.port ?? null, o.tls ?? null);
  d.set(
    step('tcp', 'ok', `connected to ${opened.address} port ${opened.port}`, {
      detail: refused.length > 0 ? refused.join('\n') : undefined,
    }),
  );

  const tlsFirst = o.tls === 'implicit' || (o.tls === undefined && opened.port === 465);
  const spoken = await sniffPort(opened.socket, {
    host: o.host,
    port: opened.port,
    timeout,
    signal: o.signal,
    lookup: o.lookup,
    tlsFirst,
  });
  const protocol = protocolStep(o.tls, opened.port, spoken);
  d.set(protocol.step);
  if (!protocol.mode) return d.report(opened.port, o.tls ?? null);

  const plan: Plan = { host: o.host, port: opened.port, mode: protocol.mode, servername: o.servername };
  return converse(d, plan, timeout);
}

async function dnsStep(o: DoctorOptions, timeout: number): Promise<DoctorStep> {
  if (isIpLiteral(o.host.replace(/^\[|\]$/g, '')))
    return step('dns', 'ok', `${o.host} is an IP address: no lookup`);
  const mx = await mxHosts(o, timeout);
  const mxText = mx?.length
    ? `mail for ${o.host} is received by ${mx.map((m) => m.exchange).join(', ')} (MX)`
    : '';
  try {
    const addresses = await resolveHost({ host: o.host, lookup: o.lookup });
    return step('dns', 'ok', `${o.host} is ${addresses.map((a) => a.address).join(', ')}`, {
      detail: mxText || undefined,
    });
  } catch (err) {
    const fix = mx?.length
      ? `${o.host} is a mail domain without an address of its own; its MX hosts receive mail (port 25). ` +
        `To send, use your provider's submission server (often smtp.${o.host})`
      : undefined;
    return failed('dns', err, fix, mxText || undefined);
  }
}

/** MX hosts when the target looks like a bare mail domain (no port given); undefined when not asked. */
async function mxHosts(o: DoctorOptions, timeout: number): Promise<readonly MxHost[] | undefined> {
  if (o.port !== undefined || o.host === 'localhost' || !o.host.includes('.')) return undefined;
  try {
    return await (o.resolveMx ?? ((domain: string) => resolveMx(domain, { timeout })))(o.host);
  } catch {
    return undefined;
  }
}

async function attempt(o: DoctorOptions, plan: Plan, timeout: number, withAuth: boolean): Promise<Attempt> {
  const conversation = new Conversation();
  const tlsOptions = {
    ...(o.ca ? { ca: o.ca } : {}),
    ...(plan.servername !== undefined ? { servername: plan.servername } : {}),
    ...(plan.insecure ? { insecureSkipVerify: true } : {}),
  };
  try {
    const session = await SmtpSession.open({
      host: plan.host,
      port: plan.port,
      tls: plan.mode,
      tlsOptions,
      ...(o.ehloName ? { name: o.ehloName } : {}),
      ...(withAuth && o.auth ? { auth: o.auth } : {}),
      timeouts: { connect: timeout, greeting: timeout, tls: timeout, command: timeout },
      ...(o.lookup ? { lookup: async (host: string) => [...(await o.lookup!(host))] } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      transcript: conversation.listener,
    });
    return { session, conversation };
  } catch (error) {
    if (isPosternError(error) && error.code === 'EABORTED') throw error;
    return { error, conversation };
  }
}

/** Which step an error of SmtpSession.open belongs to. */
function stepOf(err: unknown): DoctorStepName {
  if (!isPosternError(err)) return 'ehlo';
  if (err.code.startsWith('ETLS_')) return 'tls';
  if (err.code.startsWith('ESTARTTLS_')) return 'starttls';
  if (err.code.startsWith('EAUTH_')) return 'auth';
  switch (err.phase) {
    case 'connect':
      return 'tcp';
    case 'greeting':
      return 'protocol';
    case 'tls':
    case 'starttls':
      return 'tls';
    case 'auth':
      return 'auth';
    default:
      return 'ehlo';
  }
}

function isCertificateError(err: unknown): err is PosternError {
  return isPosternError(err) && /^ETLS_(CERT_|PIN_)/.test(err.code);
}

/** The greeting, EHLO, STARTTLS, TLS and AUTH-mechanism steps from what a session said. */
function sessionSteps(d: Diagnosis, plan: Plan, a: Attempt): void {
  const c = a.conversation;
  const greeting = c.reply('greeting');
  if (greeting && greeting.code !== 220) {
    d.set(failed('protocol', a.error ?? `greeting ${formatReply(greeting)}`));
    return;
  }
  const secureSide = plan.mode === 'implicit';
  const unverified = plan.insecure ? 'seen over TLS without verifying the certificate' : undefined;
  const first = c.capabilities(secureSide);
  if (first) {
    const keywords = [...first.capabilities.keywords.keys()].join(', ') || '(no extensions)';
    d.set(
      first.helo
        ? step('ehlo', 'warn', 'EHLO refused; HELO accepted, so no extensions (no STARTTLS, no AUTH)')
        : step('ehlo', 'ok', `${first.capabilities.domain || 'the server'} offers ${keywords}`, {
            // On a STARTTLS port this EHLO is the plaintext one: no certificate was involved yet.
            detail: secureSide ? unverified : undefined,
          }),
    );
  }
  if (plan.mode === 'implicit') {
    d.set(step('starttls', 'skip', 'not needed: the connection is TLS from the start'));
  } else if (plan.mode === 'starttls') {
    const ready = c.reply('STARTTLS', false);
    if (ready?.code === 220) d.set(step('starttls', 'ok', `offered and accepted: ${formatReply(ready)}`));
  } else {
    const offered = first?.capabilities.starttls;
    d.set(
      step(
        'starttls',
        'warn',
        offered ? 'offered, but not used (--tls none)' : 'not offered: no TLS on this port',
        {
          fix: offered
            ? 'use --tls starttls: without it the password and the mail travel unencrypted'
            : undefined,
        },
      ),
    );
    d.set(
      step('tls', 'warn', 'no TLS: everything travels in plaintext', {
        fix: 'use --tls starttls or --tls implicit',
      }),
    );
  }
  if (c.tls && a.session?.info.tls && !plan.insecure) {
    const cert = a.session.info.tls.peerCertificate;
    const soon = cert !== undefined && cert.daysLeft < 30;
    d.set(
      step('tls', soon ? 'warn' : 'ok', `${c.tls.version}, ${c.tls.cipher}; the certificate verifies`, {
        detail: cert ? certificateText(cert) : undefined,
        fix: soon ? "the certificate expires soon: the server's operator should renew it" : undefined,
      }),
    );
  }
  const after = plan.mode === 'none' ? first : c.capabilities(true);
  if (after) {
    const before = plan.mode === 'starttls' ? (c.capabilities(false)?.capabilities.auth ?? []) : [];
    const mechanisms = after.capabilities.auth;
    if (mechanisms.length === 0 && plan.mode === 'none' && after.capabilities.starttls) {
      d.set(
        step('auth-mechanisms', 'warn', 'no AUTH offered before TLS', {
          fix: 'use --tls starttls: the server offers AUTH only after STARTTLS',
        }),
      );
    } else if (mechanisms.length === 0) {
      d.set(
        step('auth-mechanisms', 'warn', 'no AUTH offered', {
          fix: 'this port may be for server-to-server mail (MX, port 25), not for submission: try 587 or 465',
        }),
      );
    } else {
      const early = before.length > 0 ? `; also before TLS: ${before.join(' ')}` : '';
      d.set(
        step('auth-mechanisms', early ? 'warn' : 'ok', `${mechanisms.join(' ')}${early}`, {
          detail: unverified,
        }),
      );
    }
  }
  if (a.error !== undefined) {
    // Before any greeting was read, a failure that names no phase (a line too long, a garbled reply) is the
    // greeting's, not the EHLO's.
    const beforeGreeting = !greeting && stepOf(a.error) === 'ehlo';
    const name = beforeGreeting ? 'protocol' : stepOf(a.error);
    if (d.get(name)?.status === 'fail') return;
    const f = failed(name, a.error);
    d.set(beforeGreeting ? { ...f, verdict: `the greeting: ${f.verdict}` } : f);
  }
}

/** A handshake that also allows TLS 1.0/1.1 and weak ciphers, to say what an old server offers. */
async function legacyHandshake(
  plan: Plan,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<{ version: string; cipher: string } | undefined> {
  try {
    const mode = plan.mode === 'implicit' ? 'implicit' : 'starttls';
    const plain = await openTlsProbe({ host: plan.host, port: plan.port, mode, timeout }, signal);
    const secure = await startTls(plain, {
      host: plan.host,
      port: plan.port,
      tls: { insecureSkipVerify: true, allowLegacyTls: true },
      handshakeTimeout: timeout,
      phase: mode === 'implicit' ? 'tls' : 'starttls',
      signal,
    });
    const found = {
      version: secure.getProtocol() ?? 'unknown',
      cipher: secure.getCipher()?.name ?? 'unknown',
    };
    secure.destroy();
    return found;
  } catch {
    return undefined;
  }
}

async function tlsProblem(
  d: Diagnosis,
  plan: Plan,
  err: PosternError,
  timeout: number,
): Promise<Plan | undefined> {
  const o = d.o;
  let certificate: CertificateInfo | undefined;
  let fixed: Plan | undefined;
  if (isCertificateError(err)) {
    // Look on without verifying, to name the certificate and to report the later steps (no password is sent).
    const look = await attempt(o, { ...plan, insecure: true }, timeout, false);
    certificate = look.session?.info.tls?.peerCertificate;
    sessionSteps(d, { ...plan, insecure: true }, look);
    await look.session?.quit();
    const name = certificateName(certificate);
    if (err.code === 'ETLS_CERT_NAME_MISMATCH' && name !== undefined && name !== plan.servername) {
      const renamed = { ...plan, servername: name };
      const retry = await attempt(o, renamed, timeout, false);
      await retry.session?.quit();
      if (retry.session) fixed = renamed;
    }
  }
  const legacy =
    err.code === 'ETLS_VERSION' || err.code === 'ETLS_HANDSHAKE'
      ? await legacyHandshake(plan, timeout, o.signal)
      : undefined;
  d.set(
    tlsFailure(err, { host: plan.host, port: plan.port, caFile: o.command?.caFile, certificate, legacy }),
  );
  if (!fixed) {
    for (const name of ['auth', 'mail'] as const) {
      d.set(
        step(name, 'skip', 'not tried: TLS must succeed first (no password goes to an unverified server)'),
      );
    }
  }
  return fixed;
}

async function converse(d: Diagnosis, initial: Plan, timeout: number): Promise<DoctorReport> {
  const o = d.o;
  let plan = initial;
  const observed = await attempt(o, plan, timeout, false);
  sessionSteps(d, plan, observed);
  let final = observed.session;
  if (observed.error !== undefined) {
    if (stepOf(observed.error) !== 'tls' || !isPosternError(observed.error))
      return d.report(plan.port, plan.mode);
    const fixed = await tlsProblem(d, plan, observed.error, timeout);
    if (!fixed) return d.report(plan.port, plan.mode);
    plan = fixed;
  }
  if (o.auth) {
    await final?.quit();
    const login = await attempt(o, plan, timeout, true);
    if (login.error !== undefined) {
      d.set(authFailure(login.error, plan.mode));
      if (!d.get('mail')) d.set(step('mail', 'skip', 'not tried: authentication failed'));
      return d.report(plan.port, plan.mode);
    }
    final = login.session;
    const how = final?.info.authenticated?.mechanism;
    d.set(step('auth', 'ok', `authenticated as ${o.auth.user}${how ? ` with ${how}` : ''}`));
  } else {
    d.set(
      step('auth', 'skip', 'no --user given', {
        fix: 'add --user NAME and --password-env VAR to test the login',
      }),
    );
    final ??= (await attempt(o, plan, timeout, false)).session;
  }
  if (!final) return d.report(plan.port, plan.mode);
  let mailOk = true;
  try {
    mailOk = await mailStep(d, final);
  } finally {
    await final.quit();
  }
  if (!mailOk) return d.report(plan.port, plan.mode);
  const command = sendCommand({
    host: plan.host,
    port: plan.port,
    tls: plan.mode,
    servername: plan.servername,
    caFile: o.command?.caFile,
    user: o.auth?.user,
    passwordArgs: o.command?.passwordArgs,
    from: senderOf(o),
    to: o.to,
  });
  return d.report(plan.port, plan.mode, command);
}

function authFailure(err: unknown, mode: SessionMode): DoctorStep {
  if (!isPosternError(err)) return failed('auth', err);
  const reply = err.reply ? ` (${err.reply.code}${err.reply.enhanced ? ` ${err.reply.enhanced}` : ''})` : '';
  const explained = (verdict: string, fix: string) =>
    step('auth', 'fail', `${verdict}${reply}`, { code: err.code, detail: said(err), fix });
  switch (err.code) {
    case 'EAUTH_FAILED':
      return explained(
        'wrong user name or password',
        'check the user name (often the whole address) and the password; some providers want an application password',
      );
    case 'EAUTH_APP_PASSWORD':
      return explained(
        'the account needs an application password',
        "create one in the account's security settings (needed with 2-step verification) and use it instead of " +
          'the account password, or use OAuth2 (--oauth-token-cmd)',
      );
    case 'EAUTH_ENCRYPTION_REQUIRED':
      return explained(
        'the server requires encryption for this mechanism',
        mode === 'none'
          ? 'use --tls starttls or --tls implicit'
          : 'the server wants a stronger channel for this mechanism: try --tls implicit, or another mechanism with --auth',
      );
    case 'EAUTH_PLAINTEXT':
      return explained(
        'no password over plaintext',
        'use --tls starttls or --tls implicit: postern never sends a password without TLS',
      );
    default:
      return failed(stepOf(err), err);
  }
}

function senderOf(o: DoctorOptions): string | undefined {
  return o.from ?? (o.auth?.user.includes('@') ? o.auth.user : undefined);
}

/** MAIL FROM (and RCPT TO) then RSET — never DATA. Returns false when the server refused. */
async function mailStep(d: Diagnosis, session: SmtpSession): Promise<boolean> {
  const from = senderOf(d.o);
  if (from === undefined) {
    d.set(step('mail', 'skip', 'no --from given', { fix: 'add --from ADDRESS to test the sender policy' }));
    return true;
  }
  let result: { mail: Reply; rcpt: Reply[] };
  try {
    result = await session.tryEnvelope(from, d.o.to ?? []);
  } catch (err) {
    d.set(failed('mail', err));
    return false;
  }
  const { mail, rcpt } = result;
  if (mail.code !== 250) {
    d.set(
      step('mail', mail.code < 500 ? 'warn' : 'fail', `MAIL FROM:<${from}> refused: ${formatReply(mail)}`, {
        code: 'ESMTP_REJECTED',
        fix: mailFix(mail, d.o.auth !== undefined),
      }),
    );
    return false;
  }
  const to = d.o.to ?? [];
  const refused = rcpt.map((r, i) => [to[i], r] as const).filter(([, r]) => r.code !== 250 && r.code !== 251);
  if (refused.length > 0) {
    const [address, reply] = refused[0]!;
    d.set(
      step('mail', 'fail', `RCPT TO:<${address}> refused: ${formatReply(reply)}`, {
        code: 'ESMTP_REJECTED',
        detail: `MAIL FROM:<${from}> accepted: ${formatReply(mail)}`,
        fix: rcptFix(reply, d.o.auth !== undefined),
      }),
    );
    return false;
  }
  const rcptText = to.length > 0 ? `, RCPT TO ${to.map((t) => `<${t}>`).join(' ')} accepted` : '';
  d.set(step('mail', 'ok', `MAIL FROM:<${from}> accepted${rcptText} (then RSET: nothing was sent)`));
  return true;
}

function mailFix(reply: Reply, authenticated: boolean): string {
  if (reply.code === 530 || (reply.enhanced === '5.7.0' && !authenticated))
    return 'the server wants authentication first: add --user NAME and --password-env VAR';
  if (reply.enhanced === '5.7.1' || reply.code === 553)
    return 'this account may not send as that address: use --from with an address the account owns';
  if (reply.code >= 400 && reply.code < 500) return 'a temporary refusal: try again later';
  return 'the server refuses this sender; use the address of the account';
}

function rcptFix(reply: Reply, authenticated: boolean): string {
  if (reply.enhanced === '5.7.1' || reply.code === 554)
    return authenticated
      ? 'the server does not relay for this account to that domain; ask its operator'
      : 'relaying denied: authenticate with --user NAME and --password-env VAR';
  if (reply.enhanced === '5.1.1') return 'the recipient does not exist on that server';
  return 'the server refuses this recipient';
}
