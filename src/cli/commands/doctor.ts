/**
 * `postern doctor TARGET`: why sending through a server fails, step by step, ending in a `postern send` that works.
 */
import { Option } from 'commander';
import type { CliCommand } from '../context.js';
import { type DoctorFlags, runDoctor } from '../doctor/run.js';
import { examplesHelp, exitCodesHelp } from '../help.js';
import { collect, seconds } from '../options.js';
import { refusedPasswordOptions, refusePlainPassword } from '../password.js';

const EXAMPLES: readonly (readonly [string, string])[] = [
  ['what is wrong with this submission server?', 'postern doctor smtp.example.com:587'],
  [
    'with the login and the sender policy (the password from the environment)',
    'postern doctor smtp.example.com:465 --user me@example.com --password-env SMTP_PASS --to you@example.org',
  ],
  ['a private server with its own CA', 'postern doctor mail.example.test:587 --ca certs/ca.pem'],
  ['no port: 587 then 465 are tried', 'postern doctor smtp.example.com --json | jq .command'],
];

export const doctorCommand: CliCommand = {
  name: 'doctor',
  register(program, context) {
    const command = program
      .command('doctor')
      .summary('find out why sending fails, and the command that works')
      .description(
        'Check each step of the way to an SMTP server: DNS, TCP, what the port speaks,\n' +
          'TLS and the certificate, EHLO, STARTTLS, AUTH, MAIL FROM (then RSET: nothing\n' +
          'is sent). Each step gets a verdict and the exact fix; at the end comes the\n' +
          '`postern send` command that works, when one was found. A password is sent\n' +
          'only over TLS with a verified certificate.',
      )
      .argument('<target>', 'HOST or HOST:PORT (without a port: 587, then 465)')
      .addOption(
        new Option('--tls <mode>', 'the TLS mode to test (default: what the port speaks)').choices([
          'implicit',
          'starttls',
          'none',
        ]),
      )
      .option('--ca <file>', 'trust only the CA certificate(s) in FILE (PEM)')
      .option('--servername <name>', 'name to expect in the certificate (and send as SNI)')
      .option('-u, --user <name>', 'test the login as this user')
      .option('--password-env <var>', 'read the password from environment variable VAR')
      .option('--password-file <file>', 'read the password from the first line of FILE')
      .option('-f, --from <address>', 'MAIL FROM to test (default: the user, when it is an address)')
      .addOption(new Option('-t, --to <addresses>', 'RCPT TO to test; repeatable').argParser(collect))
      .addOption(new Option('--timeout <seconds>', 'per-step timeout (default 10)').argParser(seconds))
      .option('--json', 'print one JSON object');
    for (const option of refusedPasswordOptions()) command.addOption(option);
    command
      .addHelpText('after', `${examplesHelp(EXAMPLES)}${exitCodesHelp()}`)
      .action(async (target: string, flags: DoctorFlags & Parameters<typeof refusePlainPassword>[0]) => {
        refusePlainPassword(flags);
        context.exitCode = await runDoctor(target, flags, context);
      });
  },
};
