/**
 * What every command gets: the environment, stdin, the output (streams, colours, --debug) and the exit code
 * it sets. Commands plug into the program through the registry in commands/index.ts.
 */
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { Output } from './output.js';

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable & { readonly isTTY?: boolean | undefined };
  readonly output: Output;
  readonly version: string;
  /** Set by a command that finishes with something other than success (e.g. partial delivery). */
  exitCode: number;
}

/** A top-level command: `send`, `cert`, `users` — and `serve` and `demo` once the server lands. */
export interface CliCommand {
  readonly name: string;
  /** Adds the command, its options, subcommands and help text to `program`. */
  register(program: Command, context: CliContext): void;
}
