/**
 * `postern audit TARGET | --domain DOMAIN`: runs the audit, prints the text report (or --json), writes --html,
 * and sets the exit code from --fail-under.
 */
import { writeFile } from 'node:fs/promises';
import { auditDomain, type DomainAuditOptions, type DomainAuditReport } from '../../audit/domain.js';
import type { MozillaProfileName } from '../../audit/profiles.js';
import { renderDomainHtml, renderHtml } from '../../audit/render-html.js';
import { renderDomainText, renderText } from '../../audit/render-text.js';
import { type AuditReport, buildReport } from '../../audit/report.js';
import { auditPort } from '../../audit/run.js';
import { GRADES, type Grade } from '../../audit/types.js';
import { parseTarget } from '../cert/show.js';
import { CliError } from '../cli-error.js';
import { EXIT } from '../exit-codes.js';
import { cliHint } from '../hints.js';
import type { Output } from '../output.js';
import { readInputFile } from '../send/message.js';

export interface AuditFlags {
  readonly domain?: string | undefined;
  readonly submission?: boolean | undefined;
  readonly tls?: boolean | undefined;
  readonly starttls?: boolean | undefined;
  readonly role?: 'mx' | 'submission' | undefined;
  readonly servername?: string | undefined;
  readonly ca?: string | undefined;
  readonly pin?: string | undefined;
  readonly smuggling?: boolean | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly relayTest?: boolean | undefined;
  readonly outsideDomain?: string | undefined;
  readonly resolver?: string | undefined;
  readonly mtaStsCa?: string | undefined;
  readonly mtaStsPort?: number | undefined;
  readonly mxPort?: number | undefined;
  readonly submissionPort?: number | undefined;
  readonly smtpsPort?: number | undefined;
  readonly profile?: MozillaProfileName | undefined;
  readonly json?: boolean | undefined;
  readonly html?: string | undefined;
  readonly failUnder?: Grade | undefined;
  readonly timeout?: number | undefined;
  readonly concurrency?: number | undefined;
}

/** The exit code when the grade is worse than --fail-under. */
export const EXIT_GRADE = 1;

/** "host", "host:port", "[v6]:port" → host and port (default 25). */
export function parseAuditTarget(text: string): { host: string; port: number } {
  const withPort = parseTarget(text);
  if (withPort) return withPort;
  if (/^[A-Za-z0-9.-]+$/.test(text) || /^\[[0-9a-fA-F:.]+\]$/.test(text)) {
    return { host: text.replace(/^\[|\]$/g, ''), port: 25 };
  }
  throw new CliError(EXIT.USAGE, `${JSON.stringify(text)} is not HOST[:PORT]`, {
    hint: 'for example mail.example.com:587, 127.0.0.1:2525 or [::1]:465',
  });
}

function worse(a: Grade, b: Grade): boolean {
  return GRADES.indexOf(a) > GRADES.indexOf(b);
}

async function writeHtml(path: string, html: string): Promise<void> {
  try {
    await writeFile(path, html);
  } catch (err) {
    throw new CliError(EXIT.CANT_CREATE, `cannot write ${path} (${(err as Error).message})`);
  }
}

/** Flags that only make sense for one port, or only for a domain, refused instead of silently ignored. */
function checkFlagScope(flags: AuditFlags): void {
  const portOnly: [keyof AuditFlags, string][] = [
    ['smuggling', '--smuggling'],
    ['relayTest', '--relay-test'],
    ['pin', '--pin'],
    ['servername', '--servername'],
    ['tls', '--tls'],
    ['starttls', '--starttls'],
    ['role', '--role'],
  ];
  const domainOnly: [keyof AuditFlags, string][] = [
    ['submission', '--submission'],
    ['resolver', '--resolver'],
    ['mtaStsCa', '--mta-sts-ca'],
    ['mtaStsPort', '--mta-sts-port'],
    ['mxPort', '--mx-port'],
    ['submissionPort', '--submission-port'],
    ['smtpsPort', '--smtps-port'],
  ];
  const wrong = (flags.domain === undefined ? domainOnly : portOnly).filter(
    ([key]) => flags[key] !== undefined,
  );
  if (wrong.length === 0) return;
  const names = wrong.map(([, name]) => name).join(', ');
  throw new CliError(
    EXIT.USAGE,
    flags.domain === undefined
      ? `${names} only apply with --domain`
      : `${names} apply to one port, not to --domain (audit each MX host as HOST:PORT for those)`,
  );
}

/** Probe errors carry the library's advice (`tls: 'starttls'`); on this command line it is a flag. */
function withFlagWording(report: AuditReport): AuditReport {
  const reword = (text: string) =>
    text
      .replace(/use tls: 'starttls'/g, 'use --starttls')
      .replace(/use tls: 'implicit'/g, 'use --tls')
      .replace(/tls: 'implicit'/g, '--tls')
      .replace(/tls: 'starttls'/g, '--starttls');
  if (report.errors.length === 0) return report;
  return { ...report, errors: report.errors.map((e) => ({ ...e, message: cliHint(reword(e.message)) })) };
}

/** Runs `postern audit`; returns the exit code. */
export async function runAudit(
  target: string | undefined,
  flags: AuditFlags,
  output: Output,
): Promise<number> {
  if (flags.tls && flags.starttls) throw new CliError(EXIT.USAGE, '--tls and --starttls exclude each other');
  if (flags.smuggling && (!flags.from || !flags.to)) {
    throw new CliError(
      EXIT.USAGE,
      '--smuggling needs --from and --to (it sends one test message per ending)',
      {
        hint: 'use addresses you own: --smuggling --from audit@your.domain --to you@your.domain',
      },
    );
  }
  if ((target === undefined) === (flags.domain === undefined)) {
    throw new CliError(EXIT.USAGE, 'give either HOST[:PORT] or --domain DOMAIN', {
      hint: 'postern audit mail.example.com:587, or postern audit --domain example.com',
    });
  }
  checkFlagScope(flags);
  const ca = flags.ca ? await readInputFile(flags.ca, 'CA file') : undefined;
  const timeout = flags.timeout === undefined ? undefined : flags.timeout * 1000;
  let grade: Grade;
  let json: AuditReport | DomainAuditReport;
  let text: string;
  let html: () => string;
  const style = output.out;
  if (flags.domain !== undefined) {
    const options: DomainAuditOptions = {
      domain: flags.domain,
      submission: flags.submission,
      resolver: flags.resolver,
      mtaStsCa: flags.mtaStsCa ? await readInputFile(flags.mtaStsCa, 'MTA-STS CA file') : undefined,
      ...(flags.mtaStsPort ? { mtaStsPort: flags.mtaStsPort } : {}),
      ca,
      ports: {
        ...(flags.mxPort ? { mx: flags.mxPort } : {}),
        ...(flags.submissionPort ? { submission: flags.submissionPort } : {}),
        ...(flags.smtpsPort ? { smtps: flags.smtpsPort } : {}),
      },
      timeout,
      concurrency: flags.concurrency,
      profile: flags.profile,
    };
    const found = await auditDomain(options);
    const report = { ...found, reports: found.reports.map(withFlagWording) };
    grade = report.grade;
    json = report;
    text = renderDomainText(report, { style, width: Math.min(output.stdout.columns ?? 100, 120) });
    html = () => renderDomainHtml(report);
  } else {
    const { host, port } = parseAuditTarget(target as string);
    const result = await auditPort({
      host,
      port,
      mode: flags.tls ? 'implicit' : flags.starttls ? 'starttls' : undefined,
      servername: flags.servername,
      ca,
      pin: flags.pin,
      timeout,
      concurrency: flags.concurrency,
      smuggling: flags.smuggling ? { from: flags.from as string, to: flags.to as string } : undefined,
      relayTest: flags.relayTest ? { from: flags.from, outsideDomain: flags.outsideDomain } : undefined,
    });
    const report = withFlagWording(buildReport({ ...result, role: flags.role, profile: flags.profile }));
    grade = report.grade.grade;
    json = report;
    text = renderText(report, { style, width: Math.min(output.stdout.columns ?? 100, 120) });
    html = () => renderHtml(report);
  }
  if (flags.html) await writeHtml(flags.html, html());
  output.print(flags.json ? JSON.stringify(json, null, 2) : text.replace(/\n$/, ''));
  if (flags.html && !flags.json) output.print(style.dim(`HTML report written to ${flags.html}`));
  return flags.failUnder && worse(grade, flags.failUnder) ? EXIT_GRADE : EXIT.OK;
}
