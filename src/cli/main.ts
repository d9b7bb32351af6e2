#!/usr/bin/env node
/**
 * The `postern` executable (package.json "bin"). Everything happens in program.ts; this file only connects it
 * to the process and sets the exit code, letting pending output drain instead of calling process.exit().
 */
import { runCli } from './program.js';

// `postern send --json | head -c 100`: a reader that goes away early is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit();
    throw err;
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
// A safety net, not the way out: if a handle (a half-closed socket, a terminal) still keeps the event loop
// alive, leave anyway. An unref'd timer never delays an exit that would happen by itself.
setTimeout(() => process.exit(), 1000).unref();
