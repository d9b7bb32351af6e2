/**
 * `postern demo` (= `npm start`): the whole system on this machine in a few seconds. An embedded Postern server
 * (STARTTLS and implicit TLS, automatic certificate, a test user, a Maildir in a temp folder), one UTF-8 message
 * sent through each TLS mode with SCRAM-SHA-256 and with PLAIN, short transcripts, the last message as stored,
 * a summary — then everything is stopped and removed, and the command exits 0.
 */
import { createTransport, type MessageSendResult } from '../../client/index.js';
import type { TranscriptEvent } from '../../core/index.js';
import type { TlsMode } from '../../tls/index.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { describeError, type Output } from '../output.js';
import { cliComposer } from '../send/deliver.js';
import { auditEmbeddedServer } from './audit.js';
import { type EmbeddedServer, startEmbeddedServer } from './embedded-server.js';
import { demoMessage } from './message.js';
import { showLastStored } from './stored.js';
import { shortTranscript } from './transcript.js';

const MODES = ['starttls', 'implicit'] as const satisfies readonly TlsMode[];
const MECHANISMS = ['SCRAM-SHA-256', 'PLAIN'] as const;
const SENDS = MODES.length * MECHANISMS.length;
/** The exit status of a run ended by SIGINT/SIGTERM, as shells report one (128 + SIGINT). */
const INTERRUPTED = 130;

type Mode = (typeof MODES)[number];

interface Outcome {
  readonly mode: Mode;
  readonly mechanism: string;
  readonly result?: MessageSendResult;
  readonly error?: unknown;
}

const MODE_NAMES: Readonly<Record<Mode, string>> = { starttls: 'STARTTLS', implicit: 'implicit TLS' };

function heading(output: Output, title: string): void {
  output.print('');
  output.print(output.out.bold(`── ${title} ──`));
}

async function sendOnce(
  server: EmbeddedServer,
  mode: Mode,
  mechanism: string,
  n: number,
  signal: AbortSignal,
): Promise<{ outcome: Outcome; events: TranscriptEvent[] }> {
  const events: TranscriptEvent[] = [];
  const address = mode === 'starttls' ? server.starttls : server.implicit;
  const transport = createTransport(
    {
      host: address.host,
      port: address.port,
      tls: mode,
      tlsOptions: { ca: server.ca },
      auth: { user: server.user, pass: server.password },
      authMethod: mechanism,
      pool: false,
      retry: false,
      transcript: (event) => events.push(event),
      signal,
    },
    {},
    cliComposer({}),
  );
  try {
    const result = await transport.send(demoMessage(n, `${MODE_NAMES[mode]} with ${mechanism}`));
    return { outcome: { mode, mechanism, result }, events };
  } catch (error) {
    return { outcome: { mode, mechanism, error }, events };
  } finally {
    await transport.close();
  }
}

function printOutcome(output: Output, outcome: Outcome, events: readonly TranscriptEvent[]): void {
  const s = output.out;
  for (const line of shortTranscript(events)) output.print(`  ${s.dim(line)}`);
  const r = outcome.result;
  if (r) {
    output.print(
      `  ${s.green('✔')} accepted for ${r.accepted.join(', ')}, queued as ${r.queueId ?? '?'}, ` +
        `${r.tls ? `${r.tls.version} ${r.tls.cipher}` : 'no TLS'}, ${r.timings.total} ms`,
    );
  } else {
    const { message, hint } = describeError(outcome.error);
    output.print(`  ${s.red('✘')} ${message}`);
    if (hint) output.print(`    ${s.dim(`hint: ${hint}`)}`);
  }
}

function printSummary(output: Output, outcomes: readonly Outcome[], stored: number): void {
  const s = output.out;
  for (const o of outcomes) {
    const r = o.result;
    const cells = [
      MODE_NAMES[o.mode].padEnd(13),
      o.mechanism.padEnd(14),
      r ? `${r.tls?.version ?? 'no TLS'} ${r.tls?.cipher ?? ''}`.padEnd(36) : '',
      r ? `queued as ${r.queueId ?? '?'}` : describeError(o.error).message,
    ];
    output.print(`  ${r ? s.green('✔') : s.red('✘')} ${cells.join(' ')}`);
  }
  const sent = outcomes.filter((o) => o.result).length;
  output.print(
    `  ${sent} of ${SENDS} messages sent; ${stored} in the Maildir, each with a ` +
      'Received header naming the TLS version and cipher',
  );
}

export async function runDemo(context: CliContext): Promise<number> {
  const { output } = context;
  const s = output.out;
  output.print(s.bold('Postern demo — secure SMTP on this machine, nothing to configure'));

  // Ctrl-C ends the sends early but still stops the server and removes the temp folder.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const outcomes: Outcome[] = [];
  let dir = '';
  try {
    const server = await startEmbeddedServer();
    dir = server.dir;
    try {
      output.print(
        `· an embedded Postern server in this process: STARTTLS on ${server.starttls.host}:${server.starttls.port}, ` +
          `implicit TLS on ${server.implicit.host}:${server.implicit.port}`,
      );
      output.print(
        `· a certificate from a fresh local CA, the user "${server.user}" with a random password, and a Maildir, in ${dir}`,
      );
      for (const mode of MODES) {
        for (const mechanism of MECHANISMS) {
          if (interrupt.signal.aborted) break;
          const n = outcomes.length + 1;
          heading(output, `${n}/${SENDS}  ${MODE_NAMES[mode]} · AUTH ${mechanism}`);
          const { outcome, events } = await sendOnce(server, mode, mechanism, n, interrupt.signal);
          printOutcome(output, outcome, events);
          outcomes.push(outcome);
        }
      }
      if (interrupt.signal.aborted) {
        throw new CliError(INTERRUPTED, 'interrupted', {
          hint: 'the embedded server is stopped and its temp folder removed all the same',
        });
      }

      heading(output, 'the last message as stored in the Maildir');
      const stored = await showLastStored(server.store, output, dir);
      heading(output, 'summary');
      printSummary(output, outcomes, stored);
      await auditEmbeddedServer(server, output);
    } finally {
      await server.stop();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const failed = outcomes.filter((o) => !o.result);
  if (failed.length > 0) {
    throw new CliError(
      exitCodeFor(failed[0]!.error),
      `${failed.length} of ${outcomes.length} sends failed (the first: ${describeError(failed[0]!.error).message})`,
      { cause: failed[0]!.error },
    );
  }
  output.print('');
  output.print(`${s.green('Done:')} the server is stopped and ${dir} is removed; nothing is left running.`);
  return EXIT.OK;
}
