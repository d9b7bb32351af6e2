/**
 * Where a password comes from: an environment variable, a file, a command (msmtp's passwordeval) or a prompt
 * without echo. Never a plain command-line value: anything in argv is visible to every user of the machine
 * (`ps`, /proc/PID/cmdline) and lands in shell history.
 */
import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { Secret } from '../core/index.js';
import { CliError } from './cli-error.js';
import { EXIT } from './exit-codes.js';
import { canPrompt, promptHidden } from './prompt.js';
import { firstLineOf } from './shell.js';

export interface PasswordSources {
  readonly passwordEnv?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly passwordCmd?: string | undefined;
  /** From the config file (only accepted from a private file). */
  readonly password?: Secret | undefined;
}

export const PASSWORD_FLAGS_HINT =
  'use --password-env VAR, --password-file FILE, --password-cmd "COMMAND", or leave it out to be asked';

/**
 * Hidden `--password <value>` options (and the spellings swaks and others use) whose only job is to refuse,
 * saying why, instead of a bare "unknown option".
 */
export function refusedPasswordOptions(): Option[] {
  return ['--password <value>', '--pass <value>', '--auth-password <value>'].map((flags) =>
    new Option(flags).hideHelp(),
  );
}

/** Throws when a refused password option was used. The value itself is never repeated. */
export function refusePlainPassword(options: {
  password?: unknown;
  pass?: unknown;
  authPassword?: unknown;
}): void {
  if (options.password === undefined && options.pass === undefined && options.authPassword === undefined)
    return;
  throw new CliError(
    EXIT.USAGE,
    'a password is not accepted as a command-line value: every user of this machine can read it (ps, /proc) and it stays in your shell history',
    { hint: PASSWORD_FLAGS_HINT },
  );
}

/** Checks that at most one source is given on the command line. */
export function oneSource(flags: PasswordSources): void {
  const given = [
    flags.passwordEnv !== undefined && '--password-env',
    flags.passwordFile !== undefined && '--password-file',
    flags.passwordCmd !== undefined && '--password-cmd',
  ].filter(Boolean);
  if (given.length > 1) {
    throw new CliError(EXIT.USAGE, `give one password source, not ${given.join(' and ')}`);
  }
}

/** The value of `name` in the environment; a missing or empty variable is a usage error. */
export function fromEnv(name: string, env: NodeJS.ProcessEnv, flag = '--password-env'): Secret {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new CliError(EXIT.USAGE, `${flag} ${name}: the environment variable ${name} is not set`, {
      hint: `export ${name}=… first, or choose another password source`,
    });
  }
  return new Secret(value);
}

/** The first line of a file (a trailing newline is not part of the password). */
export async function fromFile(path: string, flag = '--password-file'): Promise<Secret> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? EXIT.NO_INPUT : EXIT.CONFIG,
      `${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`}`,
    );
  }
  const line = (text.split('\n')[0] ?? '').replace(/\r$/, '');
  if (line === '') throw new CliError(EXIT.CONFIG, `${flag} ${path}: the first line is empty`);
  return new Secret(line);
}

/**
 * The password from the first source given, in the order: command-line flags, then `fallback` (the config
 * account and POSTERN_PASSWORD), then a prompt on the terminal. Undefined only when `prompt` is false.
 */
export async function readPassword(
  flags: PasswordSources,
  fallback: PasswordSources,
  o: { env: NodeJS.ProcessEnv; prompt: string | false },
): Promise<Secret | undefined> {
  oneSource(flags);
  for (const sources of [flags, fallback]) {
    if (sources.passwordEnv !== undefined) return fromEnv(sources.passwordEnv, o.env);
    if (sources.passwordFile !== undefined) return fromFile(sources.passwordFile);
    if (sources.passwordCmd !== undefined)
      return firstLineOf(sources.passwordCmd, '--password-cmd', process.stdin.isTTY === true);
    if (sources.password !== undefined) return sources.password;
  }
  if (o.prompt === false) return undefined;
  if (!canPrompt()) {
    throw new CliError(EXIT.USAGE, 'a password is needed, but there is no terminal to ask on', {
      hint: PASSWORD_FLAGS_HINT,
    });
  }
  return promptHidden(o.prompt);
}
