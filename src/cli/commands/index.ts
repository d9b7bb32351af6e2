/**
 * The command registry: every top-level `postern` command, in the order `postern --help` lists them.
 * A new command is a file in this folder exporting a CliCommand, and one entry below.
 */
import type { CliCommand } from '../context.js';
import { auditCommand } from './audit.js';
import { certCommand } from './cert.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { sendCommand } from './send.js';
import { serveCommand } from './serve.js';
import { usersCommand } from './users.js';

export const COMMANDS: readonly CliCommand[] = [
  sendCommand,
  serveCommand,
  demoCommand,
  certCommand,
  auditCommand,
  doctorCommand,
  usersCommand,
];
