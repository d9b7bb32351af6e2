#!/usr/bin/env node
/**
 * The demo, run from a script: the same as `postern demo` and `npm start` (src/cli/demo/ does the work).
 * Usage: node --import tsx scripts/demo.ts
 */
import { runCli } from '../src/cli/program.js';

process.exitCode = await runCli(['demo', ...process.argv.slice(2)], {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
