/**
 * `postern demo` (and `npm start`): the whole system working on this machine in a few seconds, with nothing to
 * configure and nothing left behind (src/cli/demo/ does the work).
 */
import type { CliCommand } from '../context.js';
import { runDemo } from '../demo/run.js';
import { examplesHelp } from '../help.js';

export const demoCommand: CliCommand = {
  name: 'demo',
  register(program, context) {
    program
      .command('demo')
      .summary('see it work: an embedded server, four messages over TLS with AUTH, the stored result')
      .description(
        'Start an embedded Postern server on free loopback ports (STARTTLS and implicit TLS, an automatic ' +
          'certificate, a test user, a Maildir in a temp folder); send a UTF-8 message with an attachment through ' +
          'each TLS mode with SCRAM-SHA-256 and with PLAIN, showing short transcripts (AUTH redacted); show the ' +
          'last message as stored; then stop the server, remove the temp folder and exit 0. Takes a few seconds.',
      )
      .addHelpText('after', examplesHelp([['the same as `npm start` in a clone', 'postern demo']]))
      .action(async () => {
        context.exitCode = await runDemo(context);
      });
  },
};
