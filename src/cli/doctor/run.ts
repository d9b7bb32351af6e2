/**
 * `postern doctor TARGET`: flags into doctor options, the report as text or JSON, and the exit code of the first
 * failure (the one `postern send` would have ended with).
 */
import { type DoctorReport, type DoctorStep, diagnose, STEP_TITLES } from '../../audit/doctor.js';
import { type ErrorCode, PosternError } from '../../core/index.js';
import { resolveMx } from '../../net/index.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { cliHint } from '../hints.js';
import { lookup } from '../lookup.js';
import type { Output } from '../output.js';
import { readPassword } from '../password.js';
import { readInputFile } from '../send/message.js';

export interface DoctorFlags {
  readonly tls?: 'implicit' | 'starttls' | 'none' | undefined;
  readonly ca?: string | undefined;
  readonly servername?: string | undefined;
  readonly user?: string | undefined;
  readonly passwordEnv?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string[] | undefined;
  readonly timeout?: number | undefined;
  readonly json?: boolean | undefined;
}

/** "host", "host:port", "[v6]:port" or a bare IPv6 address. */
export function parseDoctorTarget(text: string): { host: string; port?: number } {
  const withPort = /^(?:\[([^\]]+)\]|([^:/\s[\]]+)):(\d{1,5})$/.exec(text);
  if (withPort) {
    const port = Number(withPort[3]);
    if (port < 1 || port > 65535)
      throw new CliError(EXIT.USAGE, `${text}: a port is a number from 1 to 65535`);
    return { host: withPort[1] ?? withPort[2]!, port };
  }
  const bare = /^\[([^\]]+)\]$/.exec(text)?.[1] ?? text;
  if (bare === '' || /[\s/]/.test(bare)) {
    throw new CliError(EXIT.USAGE, `${text} is not a server: give HOST or HOST:PORT`);
  }
  return { host: bare };
}

/** The address of "Name <address>", or the text itself: the envelope carries bare addresses. */
function addressOf(text: string): string {
  return /<([^<>]*)>\s*$/.exec(text)?.[1] ?? text.trim();
}

/** MX lookups answer names under .invalid locally (RFC 6761), as the CLI's address lookups do. */
async function lookupMx(domain: string, timeout: number) {
  if (/(^|\.)invalid\.?$/i.test(domain)) {
    throw Object.assign(new Error(`queryMx ENOTFOUND ${domain}`), { code: 'ENOTFOUND' });
  }
  return resolveMx(domain, { timeout });
}

/** Runs the doctor and prints its report; resolves with the exit code. */
export async function runDoctor(target: string, flags: DoctorFlags, context: CliContext): Promise<number> {
  const { host, port } = parseDoctorTarget(target);
  if (flags.user === undefined && (flags.passwordEnv !== undefined || flags.passwordFile !== undefined)) {
    throw new CliError(EXIT.USAGE, 'a password was given but no user: add --user NAME');
  }
  const passwordFlags = { passwordEnv: flags.passwordEnv, passwordFile: flags.passwordFile };
  const pass =
    flags.user === undefined
      ? undefined
      : await readPassword(passwordFlags, {}, { env: context.env, prompt: `Password for ${flags.user}: ` });
  const passwordArgs =
    flags.passwordEnv !== undefined
      ? ['--password-env', flags.passwordEnv]
      : flags.passwordFile !== undefined
        ? ['--password-file', flags.passwordFile]
        : [];
  const timeout = Math.max(1, Math.round((flags.timeout ?? 10) * 1000));
  const report = await diagnose({
    host,
    port,
    tls: flags.tls,
    ca: flags.ca === undefined ? undefined : await readInputFile(flags.ca, 'CA file'),
    servername: flags.servername,
    auth: flags.user !== undefined && pass !== undefined ? { user: flags.user, pass } : undefined,
    from: flags.from === undefined ? undefined : addressOf(flags.from),
    to: flags.to?.flatMap((list) => list.split(',').map(addressOf)).filter(Boolean),
    timeout,
    lookup,
    resolveMx: (domain) => lookupMx(domain, timeout),
    command: { caFile: flags.ca, passwordArgs },
  });
  const exitCode = exitCodeOf(report);
  if (flags.json) context.output.print(JSON.stringify(toJson(report, exitCode)));
  else print(report, context.output);
  return exitCode;
}

/** 0 when no step failed; else what `postern send` exits with for the first failure's error code. */
export function exitCodeOf(report: DoctorReport): number {
  const failure = report.steps.find((s) => s.status === 'fail');
  if (!failure) return EXIT.OK;
  if (failure.code === undefined) return EXIT.UNAVAILABLE;
  return exitCodeFor(new PosternError(failure.code as ErrorCode, failure.verdict));
}

function withCliHint(s: DoctorStep): DoctorStep {
  return s.fix === undefined ? s : { ...s, fix: cliHint(s.fix) };
}

function toJson(report: DoctorReport, exitCode: number) {
  return {
    target: report.target,
    ok: exitCode === EXIT.OK,
    exitCode,
    steps: report.steps.map((s) => ({
      ...withCliHint(s),
      title: STEP_TITLES[s.step],
    })),
    command: report.command
      ? {
          line: report.command.line,
          argv: ['postern', ...report.command.args],
          placeholders: report.command.placeholders,
        }
      : null,
  };
}

const MODE_TEXT = { implicit: 'implicit TLS', starttls: 'STARTTLS', none: 'no TLS' } as const;

function print(report: DoctorReport, output: Output): void {
  const s = output.out;
  const mark = {
    ok: s.green('✓'),
    warn: s.yellow('!'),
    fail: s.red('✗'),
    skip: s.dim('–'),
  } as const;
  const { host, port, tls } = report.target;
  const where = port === null ? host : `${host.includes(':') ? `[${host}]` : host}:${port}`;
  output.print(s.bold(`postern doctor ${where}${tls ? ` (${MODE_TEXT[tls]})` : ''}`));
  const width = Math.max(...report.steps.map((x) => STEP_TITLES[x.step].length));
  const indent = ' '.repeat(width + 6);
  for (const raw of report.steps) {
    const step = withCliHint(raw);
    const title = STEP_TITLES[step.step].padEnd(width);
    const verdict = step.status === 'skip' ? s.dim(step.verdict) : step.verdict;
    output.print(`  ${mark[step.status]} ${step.status === 'skip' ? s.dim(title) : title}  ${verdict}`);
    for (const line of step.detail?.split('\n') ?? []) output.print(`${indent}${s.dim(line)}`);
    if (step.fix) output.print(`${indent}${s.cyan('fix:')} ${step.fix}`);
  }
  output.print();
  if (report.command) {
    output.print(
      s.bold(
        report.command.placeholders
          ? 'This command works (with your own --from and --to):'
          : 'This command works:',
      ),
    );
    output.print(`  ${report.command.line}`);
  } else {
    output.print(
      `${s.bold('No working command found:')} fix the first ✗ above and run postern doctor again.`,
    );
  }
}
