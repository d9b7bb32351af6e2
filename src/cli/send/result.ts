/**
 * What `postern send` reports: a short human summary, or with --json one object that docs/send-result.schema.json
 * describes. Both are built from the same SendReport so they can never disagree.
 */

import type { MessageSendResult } from '../../client/index.js';
import { isPosternError } from '../../core/index.js';
import type { TlsDetails } from '../../net/index.js';
import type { CertificateInfo, TlsMode } from '../../tls/index.js';
import { EXIT } from '../exit-codes.js';
import { describeError, type Output } from '../output.js';
import { formatBytes } from '../transcript.js';

export interface ReplyJson {
  readonly code: number;
  readonly enhanced: string | null;
  readonly lines: readonly string[];
}

export interface CertificateJson {
  readonly subject: string;
  readonly issuer: string;
  readonly altNames: readonly string[];
  readonly validFrom: string;
  readonly validTo: string;
  readonly daysLeft: number;
  readonly spkiSha256: string;
  readonly fingerprintSha256: string;
}

/** The --json object (schema: docs/send-result.schema.json). */
export interface SendReport {
  readonly ok: boolean;
  readonly exitCode: number;
  /** Null when the run failed before a server was chosen (a usage or message error). */
  readonly server: { readonly host: string; readonly port: number; readonly tlsMode: TlsMode } | null;
  readonly envelope: { readonly from: string; readonly to: readonly string[] } | null;
  readonly accepted: readonly string[];
  readonly rejected: readonly { readonly address: string; readonly reply: ReplyJson }[];
  readonly reply: ReplyJson | null;
  readonly queueId: string | null;
  readonly messageId: string | null;
  readonly tls: {
    readonly version: string;
    readonly cipher: string;
    readonly certificate: CertificateJson | null;
  } | null;
  readonly timings: { readonly envelope?: number; readonly data?: number; readonly total: number };
  readonly bytes: number | null;
  readonly method: 'DATA' | 'BDAT' | null;
  readonly attempts: number | null;
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly hint: string | null;
    readonly phase: string | null;
    readonly reply: ReplyJson | null;
  } | null;
}

function replyJson(reply: {
  readonly code: number;
  readonly enhanced?: string | undefined;
  readonly lines: readonly string[];
}): ReplyJson {
  return { code: reply.code, enhanced: reply.enhanced ?? null, lines: [...reply.lines] };
}

function certificateJson(info: CertificateInfo | undefined): CertificateJson | null {
  if (!info) return null;
  return {
    subject: info.subject,
    issuer: info.issuer,
    altNames: [...info.altNames],
    validFrom: info.validFrom.toISOString(),
    validTo: info.validTo.toISOString(),
    daysLeft: info.daysLeft,
    spkiSha256: info.spkiSha256,
    fingerprintSha256: info.fingerprintSha256,
  };
}

function tlsJson(tls: TlsDetails | undefined): SendReport['tls'] {
  if (!tls) return null;
  return { version: tls.version, cipher: tls.cipher, certificate: certificateJson(tls.peerCertificate) };
}

export interface ReportContext {
  readonly server: SendReport['server'];
  readonly started: number;
}

/** The report of a send that went through (to every recipient or to some). */
export function successReport(
  result: MessageSendResult,
  c: ReportContext & { server: NonNullable<SendReport['server']> },
): SendReport {
  const partial = result.rejected.length > 0;
  return {
    ok: !partial,
    exitCode: partial ? EXIT.PARTIAL : EXIT.OK,
    server: c.server,
    envelope: { from: result.envelope.from, to: [...result.envelope.to] },
    accepted: [...result.accepted],
    rejected: result.rejected.map((r) => ({ address: r.address, reply: replyJson(r.reply) })),
    reply: replyJson(result.reply),
    queueId: result.queueId ?? null,
    messageId: result.messageId || null,
    tls: tlsJson(result.tls),
    timings: { envelope: result.timings.envelope, data: result.timings.data, total: Date.now() - c.started },
    bytes: result.bytes,
    method: result.method,
    attempts: result.attempts,
    error: null,
  };
}

/** The report of a send that failed before the server took the message. */
export function failureReport(err: unknown, exitCode: number, c: ReportContext): SendReport {
  const { message, hint } = describeError(err);
  const reply = isPosternError(err) && err.reply ? replyJson(err.reply) : null;
  return {
    ok: false,
    exitCode,
    server: c.server,
    envelope: null,
    accepted: [],
    rejected: [],
    reply: null,
    queueId: null,
    messageId: null,
    tls: null,
    timings: { total: Date.now() - c.started },
    bytes: null,
    method: null,
    attempts: null,
    error: {
      code: isPosternError(err) ? err.code : 'ECLI',
      message,
      hint: hint ?? null,
      phase: isPosternError(err) ? (err.phase ?? null) : null,
      reply,
    },
  };
}

const MODE_LABEL: Readonly<Record<TlsMode, string>> = {
  implicit: 'implicit TLS',
  starttls: 'STARTTLS',
  opportunistic: 'opportunistic STARTTLS',
  none: 'no TLS',
};

function formatReplyJson(reply: ReplyJson): string {
  return `${reply.code} ${reply.lines.join(' / ')}`;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

/** The short human summary on stdout. */
export function printReport(report: SendReport, output: Output): void {
  const s = output.out;
  const label = (text: string) => s.dim(text.padEnd(9));
  const total = report.accepted.length + report.rejected.length;
  const headline =
    report.rejected.length === 0
      ? s.green(`✓ sent to ${total === 1 ? 'the recipient' : `all ${total} recipients`}`)
      : s.yellow(
          `! sent to ${report.accepted.length} of ${total} recipients — ${report.rejected.length} rejected`,
        );
  output.print(
    `${s.bold(headline)}${report.queueId ? ` ${s.dim('(queue id')} ${report.queueId}${s.dim(')')}` : ''}`,
  );
  if (report.accepted.length > 0) output.print(`  ${label('accepted')} ${report.accepted.join(', ')}`);
  for (const r of report.rejected)
    output.print(`  ${label('rejected')} ${s.red(`${r.address}: ${formatReplyJson(r.reply)}`)}`);
  if (report.reply) output.print(`  ${label('reply')} ${formatReplyJson(report.reply)}`);
  const server = report.server;
  const where = server ? `${server.host}:${server.port}` : '?';
  if (report.tls) {
    const mode = server ? `${MODE_LABEL[server.tlsMode]}, ` : '';
    output.print(`  ${label('server')} ${where}, ${mode}${report.tls.version}, ${report.tls.cipher}`);
    const cert = report.tls.certificate;
    if (cert) {
      const left = cert.daysLeft < 30 ? s.yellow(`${cert.daysLeft} days left`) : `${cert.daysLeft} days left`;
      output.print(
        `  ${label('cert')} ${cert.subject}, issued by ${cert.issuer}, expires ${day(cert.validTo)} (${left})`,
      );
    }
  } else {
    output.print(`  ${label('server')} ${where}, ${s.yellow('without TLS')}`);
  }
  const size = report.bytes === null ? '' : `${formatBytes(report.bytes)} via ${report.method}, `;
  output.print(
    `  ${label('message')} ${report.messageId ?? '(no Message-ID)'}, ${size}${(report.timings.total / 1000).toFixed(2)} s`,
  );
}
