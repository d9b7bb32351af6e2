/**
 * `postern send`: one message through any SMTP server, with TLS and AUTH, as swaks and msmtp do.
 */
import { type Command, Option } from 'commander';
import { createTransport } from '../../client/index.js';
import { isPosternError, PosternError } from '../../core/index.js';
import { loadConfig, selectAccount } from '../config.js';
import type { CliCommand, CliContext } from '../context.js';
import { LOCAL_SERVER, localCaFile, PROGRESS_THRESHOLD } from '../defaults.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { examplesHelp, exitCodesHelp } from '../help.js';
import { collect, port, seconds, wholeNumber } from '../options.js';
import { refusedPasswordOptions, refusePlainPassword } from '../password.js';
import { ProgressBar } from '../progress.js';
import { type ConnectionFlags, first, resolveConnection, settingsLayers } from '../send/connection.js';
import { cliComposer, composeAnywhere, deliver, type PrepareExtras } from '../send/deliver.js';
import { buildDkim, buildMessage, type MessageFlags } from '../send/message.js';
import { failureReport, printReport, type ReportContext, successReport } from '../send/result.js';
import { formatBytes, transcriptPrinter } from '../transcript.js';

interface SendOptions extends ConnectionFlags, Omit<MessageFlags, 'to' | 'cc' | 'bcc' | 'attach' | 'header'> {
  readonly to?: string[];
  readonly cc?: string[];
  readonly bcc?: string[];
  readonly attach?: string[];
  readonly header?: string[];
  readonly pin?: string[];
  readonly dryRun?: boolean;
  readonly verbose?: boolean;
  readonly json?: boolean;
  readonly config?: string;
  readonly account?: string;
  readonly password?: string;
  readonly pass?: string;
  readonly authPassword?: string;
}

const EXAMPLES: readonly (readonly [string, string])[] = [
  [
    'to the local `postern serve` (STARTTLS on 127.0.0.1:2525, its CA trusted)',
    'postern send --from me@example.test --to you@example.test --subject Hi --text "Hello"',
  ],
  [
    'through a provider, with the password from the environment',
    'postern send --server smtps://smtp.example.com --user me@example.com --password-env SMTP_PASS \\\n      --from me@example.com --to you@example.org --subject Report --text-file report.txt --attach report.pdf',
  ],
  [
    'the body from a pipe, the password from a password manager',
    'date | postern send --account work --password-cmd "pass show mail/work" --to ops@example.com --subject "cron"',
  ],
  [
    'see the whole conversation, then script on the result',
    'postern send -v --json --to you@example.org --text hi | jq .accepted',
  ],
  [
    'a prepared message as it is (envelope from its From/To/Cc/Bcc)',
    'postern send --raw message.eml --server smtp://mail.example.com:587 --user me',
  ],
  [
    'look at what would be sent, signed, without sending',
    'postern send --dry-run --from me@example.com --to you@example.org --text hi --dkim-key dkim.pem --dkim-selector s1',
  ],
];

const CONFIG_HELP = `
Configuration (~/.config/postern/config.toml or --config FILE, TOML):
  default = "work"
  [accounts.work]
  server = "smtps://smtp.example.com"     # or host, port, tls
  user = "me@example.com"
  password-cmd = "pass show mail/work"    # or password-env, password-file
  from = "Me <me@example.com>"
  # also: auth, oauth-token-cmd, ca, pin, min-tls, client-cert, client-key, insecure,
  #       dkim-key, dkim-selector, dkim-domain, timeout; [defaults] applies to every account
Settings are taken from the flags, then the --account, then the environment
(POSTERN_SERVER, POSTERN_USER, POSTERN_PASSWORD), then the config's default account.
With no server anywhere: the local \`postern serve\` at ${LOCAL_SERVER.host}:${LOCAL_SERVER.starttlsPort}
(STARTTLS; --port ${LOCAL_SERVER.implicitPort} for implicit TLS), trusting ${localCaFile()} when it exists.
The body is read from stdin when it is not a terminal and no --text, --text-file or --html-file is given.
`;

function defineOptions(command: Command): Command {
  const group = (heading: string, options: Option[]) => {
    for (const option of options) command.addOption(option.helpGroup(heading));
  };
  group('Server:', [
    new Option('--server <url>', 'smtps://host[:465] (implicit TLS) or smtp://host[:587] (STARTTLS)'),
    new Option('--host <name>', 'server host name or address'),
    new Option('--port <number>', 'server port').argParser(port),
    new Option('--tls <mode>', 'TLS mode').choices(['implicit', 'starttls', 'opportunistic', 'none']),
    new Option('--ehlo <name>', 'the name to send in EHLO'),
    new Option('--timeout <seconds>', 'per-step timeout (connect, TLS, each reply)').argParser(seconds),
    new Option('--retries <n>', 'retry temporary failures n times (default 0: exit 75 instead)').argParser(
      wholeNumber,
    ),
  ]);
  group('Authentication:', [
    new Option('-u, --user <name>', 'authenticate as this user'),
    new Option('--password-env <var>', 'read the password from environment variable VAR'),
    new Option('--password-file <file>', 'read the password from the first line of FILE'),
    new Option('--password-cmd <command>', 'run COMMAND (/bin/sh -c) and use the first line it prints'),
    new Option('--auth <mechanism>', 'force a SASL mechanism, e.g. SCRAM-SHA-256, PLAIN, XOAUTH2'),
    new Option('--oauth-token-cmd <command>', 'run COMMAND for an OAuth2 access token (XOAUTH2/OAUTHBEARER)'),
    ...refusedPasswordOptions(),
  ]);
  group('Message:', [
    new Option('-f, --from <address>', 'sender (From and MAIL FROM)'),
    new Option('-t, --to <addresses>', 'recipient; repeatable, or a comma list').argParser(collect),
    new Option('--cc <addresses>', 'copy recipient; repeatable').argParser(collect),
    new Option('--bcc <addresses>', 'blind copy recipient (envelope only); repeatable').argParser(collect),
    new Option('-s, --subject <text>', 'subject'),
    new Option('--text <text>', 'plain-text body'),
    new Option('--text-file <file>', 'plain-text body from FILE ("-" for stdin)'),
    new Option('--html-file <file>', 'HTML body from FILE'),
    new Option('-a, --attach <file>', 'attach FILE; repeatable').argParser(collect),
    new Option('-H, --header <"Name: value">', 'extra header field; repeatable').argParser(collect),
    new Option('--raw <file>', 'send FILE (a complete .eml) as it is'),
    new Option('--dkim-key <file>', 'DKIM-sign with this private key (PEM, RSA or Ed25519)'),
    new Option('--dkim-selector <name>', 'DKIM selector (s=)'),
    new Option('--dkim-domain <domain>', 'DKIM signing domain (d=); default: the domain of --from'),
    new Option('--dry-run', 'print the composed message on stdout and send nothing'),
  ]);
  group('TLS:', [
    new Option('--ca <file>', 'trust only the CA certificate(s) in FILE (PEM)'),
    new Option('--insecure', 'do not verify the certificate (prints what that gives up)'),
    new Option('--pin <sha256/base64>', "require the server key's SPKI hash; repeatable")
      .argParser(collect)
      .default([]),
    new Option('--min-tls <version>', 'lowest TLS version to accept').choices(['1.2', '1.3']),
    new Option('--client-cert <file>', 'client certificate (PEM)'),
    new Option('--client-key <file>', 'client private key (PEM)'),
    new Option('--servername <name>', 'name to expect in the certificate (and send as SNI)'),
  ]);
  group('Output and configuration:', [
    new Option('-v, --verbose', 'print the SMTP conversation on stderr (AUTH redacted)'),
    new Option('--json', 'print the result as one JSON object (docs/send-result.schema.json)'),
    new Option('--config <file>', 'config file (default ~/.config/postern/config.toml)'),
    new Option('--account <name>', 'use [accounts.NAME] from the config file'),
  ]);
  return command;
}

async function runSend(o: SendOptions, context: CliContext): Promise<number> {
  refusePlainPassword(o);
  const { output, env } = context;
  const started = Date.now();
  let report: ReportContext | undefined;
  try {
    const config = await loadConfig(o.config, env);
    const layers = settingsLayers(selectAccount(config, o.account), o.account !== undefined, env);
    const messageFlags: MessageFlags = {
      ...o,
      from: o.from ?? first(layers, 'from'),
      to: o.to ?? [],
      cc: o.cc ?? [],
      bcc: o.bcc ?? [],
      attach: o.attach ?? [],
      header: o.header ?? [],
      dkimKey: o.dkimKey ?? first(layers, 'dkimKey'),
      dkimSelector: o.dkimSelector ?? first(layers, 'dkimSelector'),
      dkimDomain: o.dkimDomain ?? first(layers, 'dkimDomain'),
    };
    const message = await buildMessage(messageFlags, {
      stdin: context.stdin.isTTY ? undefined : context.stdin,
    });
    const dkim = await buildDkim(messageFlags, messageFlags.from);

    if (o.dryRun) return await dryRun(message, dkim, context);

    const { options, localDefault } = await resolveConnection(o, layers, { env, output });
    const server = { host: options.host, port: options.port!, tlsMode: options.tls! };
    report = { server, started };
    let bar: ProgressBar | undefined;
    const extras: PrepareExtras = {
      dkim,
      onComposed: (prepared) => {
        const size = prepared.size ?? prepared.approximateSize;
        if (size !== undefined && size > PROGRESS_THRESHOLD && output.stderr.isTTY) {
          bar = new ProgressBar(output.stderr, output.err, size);
          output.transientLine = () => bar?.finish();
        }
      },
      onChunk: (bytes) => bar?.advance(bytes),
    };
    const transport = createTransport(
      { ...options, ...(o.verbose ? { transcript: transcriptPrinter(output, started) } : {}) },
      {},
      cliComposer(extras),
    );
    let delivered: Awaited<ReturnType<typeof deliver>>;
    try {
      delivered = await deliver(transport, message);
    } catch (err) {
      throw localDefault ? withLocalServerHint(err, server) : err;
    } finally {
      bar?.finish();
      output.transientLine = undefined;
      await transport.close();
    }
    const result = successReport(delivered, { server, started });
    if (o.json) output.print(JSON.stringify(result));
    else printReport(result, output);
    return result.exitCode;
  } catch (err) {
    if (o.json)
      output.print(JSON.stringify(failureReport(err, exitCodeFor(err), report ?? { server: null, started })));
    throw err;
  }
}

/** Refused connections to the default server deserve a word on where that default came from. */
function withLocalServerHint(err: unknown, server: { host: string; port: number }): unknown {
  if (!isPosternError(err) || err.code !== 'ECONNREFUSED') return err;
  return new PosternError(err.code, err.message.replace(` — ${err.hint}`, ''), {
    hint: `no server was given, so postern tried the local \`postern serve\` (${server.host}:${server.port}): start it, or pass --server URL (or --host)`,
    phase: err.phase,
    transient: err.transient,
    cause: err,
  });
}

async function dryRun(
  message: Parameters<typeof composeAnywhere>[0],
  dkim: PrepareExtras['dkim'],
  context: CliContext,
): Promise<number> {
  const prepared = await composeAnywhere(message, { dkim });
  try {
    const size = prepared.size ?? prepared.approximateSize;
    context.output.note(
      context.output.err.dim(
        `dry run: MAIL FROM:<${prepared.envelope.from}> RCPT TO:${prepared.envelope.to.map((a) => `<${a}>`).join(',')}` +
          `${size !== undefined ? `, ${formatBytes(size)}` : ''}; nothing was sent`,
      ),
    );
    for await (const chunk of prepared.stream()) context.output.stdout.write(chunk);
  } finally {
    await prepared.dispose();
  }
  return EXIT.OK;
}

export const sendCommand: CliCommand = {
  name: 'send',
  register(program, context) {
    const command = program
      .command('send')
      .summary('send a message (TLS, AUTH, attachments, DKIM) and show what happened')
      .description(
        'Send one message through an SMTP server with TLS and authentication, and report what the server said.\n' +
          'Certificates are verified; passwords are never taken as a command-line value.',
      );
    defineOptions(command);
    command
      .addHelpText('after', `${CONFIG_HELP}${examplesHelp(EXAMPLES)}${exitCodesHelp()}`)
      .action(async (options: SendOptions) => {
        context.exitCode = await runSend(options, context);
      });
  },
};
