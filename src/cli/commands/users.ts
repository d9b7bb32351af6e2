/**
 * `postern users add|remove|list`: the users file `postern serve` authenticates against
 * (src/server/users-file.ts: scrypt for PLAIN/LOGIN and SCRAM stored keys, never the password itself unless
 * --cram-md5 asks for it).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { Secret } from '../../core/index.js';
import { addUser, listUsers, removeUser } from '../../server/users-file.js';
import { CliError } from '../cli-error.js';
import type { CliCommand, CliContext } from '../context.js';
import { defaultUsersFile } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import { examplesHelp } from '../help.js';
import { fromEnv, refusedPasswordOptions, refusePlainPassword } from '../password.js';
import { promptHidden } from '../prompt.js';

interface AddFlags {
  readonly file: string;
  readonly passwordEnv?: string;
  readonly cramMd5?: boolean;
  readonly password?: string;
  readonly pass?: string;
  readonly authPassword?: string;
}

/** The first line of stdin (a piped password); the rest is ignored. */
async function firstLineOfStdin(stdin: CliContext['stdin']): Promise<Secret> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buffer);
    size += buffer.length;
    if (buffer.includes(0x0a) || size > 64 * 1024) break;
  }
  const line = (Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '').replace(/\r$/, '');
  if (line === '') throw new CliError(EXIT.USAGE, 'no password on stdin (the first line is empty)');
  return new Secret(line);
}

async function newPassword(flags: AddFlags, context: CliContext, name: string): Promise<Secret> {
  if (flags.passwordEnv !== undefined) return fromEnv(flags.passwordEnv, context.env);
  if (!context.stdin.isTTY) return firstLineOfStdin(context.stdin);
  const first = await promptHidden(`New password for ${name}: `);
  const again = await promptHidden('Repeat it: ');
  if (first.reveal() !== again.reveal())
    throw new CliError(EXIT.USAGE, 'the two passwords differ; nothing was changed');
  return first;
}

function addCommand(users: Command, context: CliContext): void {
  const command = users
    .command('add')
    .summary('add a user, or set a new password for one')
    .description(
      'Add NAME to the users file (or replace its password). The password comes from a prompt without echo,\n' +
        '--password-env VAR, or the first line of stdin when stdin is not a terminal.',
    )
    .argument('<name>', 'the user name (as typed at login; SASLprep applies)')
    .option('--file <file>', 'the users file', defaultUsersFile())
    .option('--password-env <var>', 'take the password from environment variable VAR')
    .option(
      '--cram-md5',
      'also store what CRAM-MD5 needs: the password itself, readable by anyone who reads the file',
    );
  for (const option of refusedPasswordOptions()) command.addOption(option);
  command
    .addHelpText(
      'after',
      examplesHelp([
        ['asked twice, without echo', 'postern users add alice'],
        [
          'from a secret store, for scripts',
          'vault read -field=pw secret/alice | postern users add alice --file /etc/postern/users',
        ],
      ]),
    )
    .action(async (name: string, flags: AddFlags) => {
      refusePlainPassword(flags);
      const password = await newPassword(flags, context, name);
      if (flags.cramMd5) {
        context.output.warn(
          '--cram-md5 stores the password itself (base64 is not encryption); keep the file private',
        );
      }
      // The default file lives in the server's data folder, which may not exist yet on a fresh checkout.
      await mkdir(dirname(resolve(flags.file)), { recursive: true, mode: 0o700 });
      await addUser(flags.file, name, password, { cramMd5: flags.cramMd5 === true });
      context.output.print(`${context.output.out.green('added')} ${name} to ${flags.file}`);
    });
}

function removeCommand(users: Command, context: CliContext): void {
  users
    .command('remove')
    .summary('remove a user')
    .argument('<name>', 'the user name')
    .option('--file <file>', 'the users file', defaultUsersFile())
    .action(async (name: string, flags: { file: string }) => {
      if (!(await removeUser(flags.file, name))) {
        throw new CliError(EXIT.NO_USER, `there is no user "${name}" in ${flags.file}`, {
          hint: '`postern users list` shows who is there',
        });
      }
      context.output.print(`${context.output.out.green('removed')} ${name} from ${flags.file}`);
    });
}

function listCommand(users: Command, context: CliContext): void {
  users
    .command('list')
    .summary('list the users and what each can log in with')
    .option('--file <file>', 'the users file', defaultUsersFile())
    .option('--json', 'print a JSON array')
    .action(async (flags: { file: string; json?: boolean }) => {
      const listed = await listUsers(flags.file);
      if (flags.json) {
        context.output.print(JSON.stringify(listed));
        return;
      }
      if (listed.length === 0) {
        context.output.note(`no users in ${flags.file}`);
        return;
      }
      const width = Math.max(...listed.map((u) => u.name.length));
      for (const user of listed) {
        context.output.print(
          `${user.name.padEnd(width)}  ${context.output.out.dim(user.mechanisms.join(' '))}`,
        );
      }
    });
}

export const usersCommand: CliCommand = {
  name: 'users',
  register(program, context) {
    const users = program
      .command('users')
      .summary("manage the local server's users file")
      .description(
        `Add, remove and list the users \`postern serve\` accepts (default file: ${defaultUsersFile()}).`,
      );
    addCommand(users, context);
    removeCommand(users, context);
    listCommand(users, context);
  },
};
