/**
 * The `postern` program: commander with the registered commands, global flags, and errors turned into exit
 * codes. `runCli()` never exits the process itself, so it can be driven from tests and from main.ts alike.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import type { CliContext } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { examplesHelp, exitCodesHelp } from './help.js';
import { Output, type OutStream } from './output.js';

export interface CliIo {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly stdin: CliContext['stdin'];
  readonly env: NodeJS.ProcessEnv;
}

/** package.json is two folders up from both src/cli/program.ts and dist/cli/program.js. */
function packageVersion(): string {
  try {
    const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const EXAMPLES: readonly (readonly [string, string])[] = [
  [
    'send a test message to the local `postern serve`',
    'postern send --from me@example.test --to you@example.test --text hi',
  ],
  [
    'send through a provider, showing the SMTP conversation',
    'postern send -v --server smtps://smtp.example.com --user me@example.com --password-env SMTP_PASS \\\n      --from me@example.com --to you@example.org --subject Test --attach report.pdf',
  ],
  [
    'make a CA and a server certificate signed by it',
    'postern cert create --ca --cn mail.example.test --san DNS:mail.example.test,IP:127.0.0.1 --out certs',
  ],
  ['look at the certificate a server presents', 'postern cert show mail.example.com:587 --starttls'],
  ['add a user to the local server', 'postern users add alice'],
];

/**
 * Parses `argv` (without "node" and the script) and runs the command; resolves with the exit code.
 *
 * @example process.exitCode = await runCli(process.argv.slice(2), { ...process, env: process.env });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // Read before commander runs, so errors in parsing itself are printed the way the user asked.
  const output = new Output({
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    color: argv.includes('--no-color') ? false : undefined,
    debug: argv.includes('--debug'),
  });
  const context: CliContext = {
    env: io.env,
    stdin: io.stdin,
    output,
    version: packageVersion(),
    exitCode: EXIT.OK,
  };
  const program = new Command('postern')
    .description('Secure SMTP from the command line: send mail, make and inspect certificates, manage users.')
    .version(context.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also for a command: postern send --help)')
    .option('--debug', 'print stack traces with errors')
    .option('--no-color', 'no colours (also: the NO_COLOR environment variable)')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(output.err.red(text)),
    })
    .addHelpText('after', `${examplesHelp(EXAMPLES)}${exitCodesHelp()}`);
  for (const command of COMMANDS) command.register(program, context);
  // Subcommands inherit the output settings and exit handling.
  for (const sub of program.commands) inherit(sub, program);

  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with 0; help shown because something was missing ends with 1.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    output.error(err);
    return exitCodeFor(err);
  }
}

function inherit(command: Command, parent: Command): void {
  command
    .exitOverride()
    .configureOutput(parent.configureOutput())
    .showHelpAfterError('(run with --help for usage)')
    .helpOption('-h, --help', 'show help');
  for (const sub of command.commands) inherit(sub, command);
}
