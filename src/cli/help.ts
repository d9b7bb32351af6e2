/** Help text shared by `postern --help` and `postern send --help`: examples and the exit codes. */
import { EXIT_CODE_TABLE } from './exit-codes.js';

/** "Exit codes:" and one line per code, as --help prints it. */
export function exitCodesHelp(): string {
  const lines = EXIT_CODE_TABLE.map(([code, text]) => `  ${String(code).padStart(2)}  ${text}`);
  return `\nExit codes (sysexits.h; 79 is postern's own):\n${lines.join('\n')}\n`;
}

/** A titled block of example command lines, each with a comment. */
export function examplesHelp(examples: readonly (readonly [string, string])[]): string {
  const lines = examples.map(([comment, command]) => `  # ${comment}\n  $ ${command}`);
  return `\nExamples:\n${lines.join('\n\n')}\n`;
}
