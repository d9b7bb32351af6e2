/**
 * The command registry: every top-level `postern` command, in the order `postern --help` lists them.
 * `serve` and `demo` plug in here once the server lands: a file commands/serve.ts exporting a CliCommand,
 * and one line below.
 */
import type { CliCommand } from '../context.js';
import { certCommand } from './cert.js';
import { sendCommand } from './send.js';
import { usersCommand } from './users.js';

export const COMMANDS: readonly CliCommand[] = [sendCommand, certCommand, usersCommand];
