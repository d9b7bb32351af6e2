/**
 * Asking for a password on the terminal without echoing it. Works when stdin is piped (a message body) by
 * opening the controlling terminal, as getpass(3) does.
 */
import { closeSync, openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { Secret } from '../core/index.js';
import { CliError } from './cli-error.js';
import { EXIT } from './exit-codes.js';

interface Terminal {
  readonly input: ReadStream;
  readonly output: NodeJS.WritableStream;
  close(): void;
}

/** The terminal to ask on: stdin/stderr when they are one, else /dev/tty; undefined when there is none. */
function openTerminal(): Terminal | undefined {
  if (process.stdin.isTTY && process.stderr.isTTY) {
    return { input: process.stdin as ReadStream, output: process.stderr, close() {} };
  }
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  return {
    input,
    output,
    close() {
      input.destroy();
      output.destroy();
      try {
        closeSync(fd);
      } catch {
        // already closed by the streams
      }
    },
  };
}

/** Whether a terminal is there to prompt on. */
export function canPrompt(): boolean {
  if (process.stdin.isTTY && process.stderr.isTTY) return true;
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Prints `question` and reads one line with echo off. Backspace and Ctrl-U edit; Ctrl-C aborts (exit 130);
 * Ctrl-D on an empty line aborts.
 *
 * @example const pass = await promptHidden('Password for me@example.com: ');
 */
export async function promptHidden(question: string): Promise<Secret> {
  const terminal = openTerminal();
  if (!terminal) {
    throw new CliError(EXIT.USAGE, 'a password is needed, but there is no terminal to ask on', {
      hint: 'use --password-env VAR, --password-file FILE or --password-cmd "COMMAND"',
    });
  }
  const { input, output } = terminal;
  output.write(question);
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  let typed = '';
  try {
    return await new Promise<Secret>((resolve, reject) => {
      const finish = (result: Secret | CliError) => {
        input.off('data', onData);
        output.write('\n');
        if (result instanceof Secret) resolve(result);
        else reject(result);
      };
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') return finish(new Secret(typed));
          if (ch === '\x03') return finish(new CliError(130, 'interrupted'));
          if (ch === '\x04') {
            if (typed === '') return finish(new CliError(EXIT.USAGE, 'no password given (end of input)'));
            continue;
          }
          if (ch === '\x7f' || ch === '\b') typed = typed.slice(0, -1);
          else if (ch === '\x15') typed = '';
          else if (ch >= ' ') typed += ch;
        }
      };
      input.on('data', onData);
    });
  } finally {
    typed = '';
    input.setRawMode(wasRaw);
    input.pause();
    terminal.close();
  }
}
