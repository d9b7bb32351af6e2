/**
 * `postern serve`: a ready-to-run local SMTP server — STARTTLS and implicit TLS, an automatic certificate, a
 * Maildir and a test user, with nothing to configure (src/cli/serve/ does the work).
 */
import { Option } from 'commander';
import type { CliCommand } from '../context.js';
import {
  DEFAULT_DATA_DIR,
  defaultMaildir,
  defaultUsersFile,
  LOCAL_SERVER,
  localCaFile,
  SHUTDOWN_TIMEOUT_MS,
} from '../defaults.js';
import { examplesHelp } from '../help.js';
import { byteSize } from '../serve/byte-size.js';
import { collectListen } from '../serve/listen-address.js';
import type { ServeFlags } from '../serve/plan.js';
import { runServe } from '../serve/run.js';

const EXAMPLES: readonly (readonly [string, string])[] = [
  [
    `STARTTLS on ${LOCAL_SERVER.host}:${LOCAL_SERVER.starttlsPort}, implicit TLS on :${LOCAL_SERVER.implicitPort}, everything in ./${DEFAULT_DATA_DIR}`,
    'postern serve',
  ],
  ['other ports, and IPv6', 'postern serve --listen starttls://127.0.0.1:2587 --listen tls://[::1]:2465'],
  [
    'reachable from other hosts: only with AUTH, and with your certificate',
    'postern serve --listen starttls://0.0.0.0:587 --listen tls://0.0.0.0:465 --require-auth \\\n' +
      '      --cert /etc/ssl/mail.pem --key /etc/ssl/mail.key --hostname mail.example.com --users /etc/postern/users',
  ],
  [
    'JSON lines for a log collector',
    'postern serve --json-logs | jq -c "select(.msg == \\"message accepted\\")"',
  ],
];

const SIGNALS_HELP = `
Signals:
  SIGTERM, SIGINT  stop accepting, let transactions in flight finish (at most ${SHUTDOWN_TIMEOUT_MS / 1000} s), exit 0;
                   a second one stops at once
  SIGHUP           reload the certificate files (or the automatic certificate) and the users file;
                   on an error the old ones stay in use and the error is logged
`;

export const serveCommand: CliCommand = {
  name: 'serve',
  register(program, context) {
    const command = program
      .command('serve')
      .summary('run a local SMTP server (STARTTLS, implicit TLS, AUTH, Maildir)')
      .description(
        'Run an SMTP server that is secure by default: TLS with an automatic certificate (its CA in ' +
          `${localCaFile()}), AUTH only under TLS, messages stored in a Maildir. With no users file it creates ` +
          'the user "test" with a random password, prints it once, and prints the postern send and swaks commands ' +
          'to try it. Every connection is logged on stdout (client, TLS, user, result); the rest goes to stderr.',
      );
    const group = (heading: string, options: Option[]) => {
      for (const option of options) command.addOption(option.helpGroup(heading));
    };
    group('Listening:', [
      new Option(
        '--listen <url>',
        `starttls://HOST:PORT or tls://HOST:PORT (IPv6 in brackets); repeatable (default starttls://${LOCAL_SERVER.host}:${LOCAL_SERVER.starttlsPort} and tls://${LOCAL_SERVER.host}:${LOCAL_SERVER.implicitPort})`,
      ).argParser(collectListen),
      new Option(
        '--hostname <name>',
        'the name in the greeting, EHLO and Received headers (default: this host)',
      ),
      new Option('--require-auth', 'accept mail only from authenticated clients'),
      new Option('--require-tls', 'refuse MAIL and AUTH before STARTTLS (530 5.7.0)'),
      new Option(
        '--allow-open-relay',
        'listen on an address other hosts reach without --require-auth (anyone could send through it)',
      ),
      new Option('--max-size <bytes>', 'largest message: 26214400, 512K, 10M, 1G (default 25M)').argParser(
        byteSize,
      ),
    ]);
    group('Files:', [
      new Option('--data-dir <dir>', 'the automatic certificate, users file and Maildir live here').default(
        DEFAULT_DATA_DIR,
      ),
      new Option(
        '--cert <file>',
        'certificate chain (PEM) instead of the automatic certificate; needs --key',
      ),
      new Option('--key <file>', 'private key (PEM) for --cert'),
      new Option(
        '--users <file>',
        `users file (default DIR/users: ${defaultUsersFile()}; \`postern users add\` writes it)`,
      ),
      new Option('--maildir <dir>', `where accepted messages go (default DIR/Maildir: ${defaultMaildir()})`),
    ]);
    group('Output:', [new Option('--json-logs', 'log one JSON object per line on stdout')]);
    command
      .addHelpText('after', `${SIGNALS_HELP}${examplesHelp(EXAMPLES)}`)
      .action(async (flags: ServeFlags) => {
        context.exitCode = await runServe(flags, context);
      });
  },
};
