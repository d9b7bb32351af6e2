/**
 * Everything the CLI writes: colours only on a terminal and never with NO_COLOR (https://no-color.org),
 * errors as one line plus a hint, and stack traces only with --debug.
 */
import { inspect } from 'node:util';
import type { TextStyle } from '../audit/index.js';
import { isPosternError } from '../core/index.js';
import { CliError } from './cli-error.js';
import { isSystemError } from './exit-codes.js';
import { cliHint } from './hints.js';

/** A writable the CLI prints to; `isTTY` and `columns` decide colours and the progress bar. */
export interface OutStream {
  write(text: string | Uint8Array): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** The audit report's colours, plus what the other commands use. */
export interface Style extends TextStyle {
  readonly enabled: boolean;
  magenta(text: string): string;
}

function sgr(open: number, close: number, on: boolean): (text: string) => string {
  return on ? (text) => `\x1b[${open}m${text}\x1b[${close}m` : (text) => text;
}

/** Whether to colour `stream`: a terminal, NO_COLOR unset or empty, and not --no-color. */
export function colourWanted(
  stream: OutStream,
  env: NodeJS.ProcessEnv,
  flag: boolean | undefined = undefined,
): boolean {
  if (flag === false) return false;
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}

export function createStyle(enabled: boolean): Style {
  return {
    enabled,
    bold: sgr(1, 22, enabled),
    dim: sgr(2, 22, enabled),
    red: sgr(31, 39, enabled),
    green: sgr(32, 39, enabled),
    yellow: sgr(33, 39, enabled),
    cyan: sgr(36, 39, enabled),
    magenta: sgr(35, 39, enabled),
  };
}

/** The streams and settings one run of the CLI writes with. */
export class Output {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  /** Style for stdout and for stderr: each is coloured only when it is a terminal. */
  readonly out: Style;
  readonly err: Style;
  readonly debug: boolean;
  /** Erases a line being redrawn (the progress bar) before anything else is written to stderr. */
  transientLine: (() => void) | undefined;

  constructor(o: {
    stdout: OutStream;
    stderr: OutStream;
    env: NodeJS.ProcessEnv;
    color?: boolean | undefined;
    debug?: boolean;
  }) {
    this.stdout = o.stdout;
    this.stderr = o.stderr;
    this.out = createStyle(colourWanted(o.stdout, o.env, o.color));
    this.err = createStyle(colourWanted(o.stderr, o.env, o.color));
    this.debug = o.debug === true;
  }

  /** A line on stdout (results). */
  print(line = ''): void {
    this.stdout.write(`${line}\n`);
  }

  /** A line on stderr (transcripts, progress, notes). */
  note(line: string): void {
    this.transientLine?.();
    this.stderr.write(`${line}\n`);
  }

  warn(message: string): void {
    this.transientLine?.();
    this.stderr.write(`${this.err.yellow(this.err.bold('warning:'))} ${message}\n`);
  }

  /** One line saying what failed, one with the hint, and with --debug the stack and causes. */
  error(err: unknown): void {
    const { message, hint } = describeError(err);
    const s = this.err;
    this.transientLine?.();
    this.stderr.write(`${s.red(s.bold('error:'))} ${message}\n`);
    if (hint) this.stderr.write(`${s.dim('hint:')}  ${hint}\n`);
    if (this.debug) this.stderr.write(`${s.dim(debugText(err))}\n`);
    else if (!isPosternError(err) && !(err instanceof CliError) && !isSystemError(err))
      this.stderr.write(
        `${s.dim('(this looks like a bug in postern; run with --debug for the stack trace)')}\n`,
      );
  }
}

/** The message without the " — hint" suffix PosternError appends, and the hint on its own. */
export function describeError(err: unknown): { message: string; hint: string | undefined; code?: string } {
  if (isPosternError(err)) {
    const suffix = err.hint ? ` — ${err.hint}` : '';
    const message =
      suffix && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
    return { message, hint: err.hint === undefined ? undefined : cliHint(err.hint), code: err.code };
  }
  if (err instanceof CliError) return { message: err.message, hint: err.hint };
  if (err instanceof Error) return { message: err.message || err.name, hint: undefined };
  return { message: String(err), hint: undefined };
}

function debugText(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    if (depth > 0) parts.push('caused by:');
    parts.push(
      current instanceof Error ? (current.stack ?? String(current)) : inspect(current, { depth: 2 }),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}
