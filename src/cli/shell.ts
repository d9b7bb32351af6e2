/**
 * Runs a user's command through /bin/sh -c and takes the first line of its output: msmtp's `passwordeval`,
 * for --password-cmd and --oauth-token-cmd. The output is a secret: it is never printed, not even on failure.
 */
import { spawn } from 'node:child_process';
import { Secret } from '../core/index.js';
import { CliError } from './cli-error.js';
import { EXIT } from './exit-codes.js';

/** More than any password or token; a command that prints more is probably the wrong command. */
const MAX_OUTPUT = 64 * 1024;

/**
 * The first line of what `command` prints on stdout, without its line end.
 * `flag` names the option in errors ("--password-cmd"). The command's stderr goes to ours (gpg prompts, errors).
 *
 * @example const pass = await firstLineOf('pass show mail/work', '--password-cmd');
 */
export function firstLineOf(command: string, flag: string, interactive = false): Promise<Secret> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) chunks.push(chunk);
    });
    child.once('error', (err) =>
      reject(new CliError(EXIT.CONFIG, `${flag}: cannot run /bin/sh (${err.message})`, { cause: err })),
    );
    child.once('close', (code, signal) => {
      if (code !== 0) {
        reject(
          new CliError(
            EXIT.CONFIG,
            `${flag}: the command ${signal ? `was killed by ${signal}` : `exited with status ${code}`}`,
            { hint: `run the command yourself to see what is wrong (its output is not shown here)` },
          ),
        );
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const line = (text.split('\n')[0] ?? '').replace(/\r$/, '');
      chunks.length = 0;
      if (line === '') {
        reject(new CliError(EXIT.CONFIG, `${flag}: the command printed nothing on its first line`));
        return;
      }
      resolve(new Secret(line));
    });
  });
}
