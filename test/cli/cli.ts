/**
 * Runs the real `postern` command (src/cli/main.ts under tsx) as a child process, as a user would.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SYSTEM_PYTHON } from '../helpers/peers.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_MAIN = join(ROOT, 'src/cli/main.ts');
/** tsx resolved once, so the CLI can run from any working directory. */
export const TSX = import.meta.resolve('tsx');

/** node + the arguments that start the CLI (for spawn, or for a pseudo-terminal). */
export function cliArgv(args: readonly string[]): string[] {
  return [process.execPath, '--import', TSX, CLI_MAIN, ...args];
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Extra environment; NO_COLOR and HOME are isolated unless given. */
  readonly env?: Record<string, string | undefined>;
  /** Text for stdin; default: stdin is /dev/null (not a terminal, empty). */
  readonly stdin?: string | Buffer;
  readonly cwd?: string;
  /** Called with the child right after spawn (e.g. to read /proc/PID/cmdline). */
  readonly onSpawn?: (child: ChildProcess) => void;
  readonly timeoutMs?: number;
}

/** A clean environment: no config file or POSTERN_* variables of the person running the tests leak in. */
export function baseEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, LANG: 'C.UTF-8' };
  if (process.env['TMPDIR']) env['TMPDIR'] = process.env['TMPDIR'];
  return env;
}

/** Runs `postern ARGS…` to completion. */
export function runCli(args: readonly string[], o: CliOptions & { home: string }): Promise<CliRun> {
  const [node, ...rest] = cliArgv(args);
  const env = { ...baseEnv(o.home), ...o.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = spawn(node!, rest, {
    cwd: o.cwd ?? o.home,
    env,
    stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  o.onSpawn?.(child);
  if (o.stdin !== undefined) child.stdin!.end(o.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`postern ${args.join(' ')} did not finish in ${o.timeoutMs ?? 30000} ms\n${stderr}`));
    }, o.timeoutMs ?? 30000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

const PTY_RUN = join(dirname(fileURLToPath(import.meta.url)), 'pty_run.py');

/**
 * Runs the CLI in a pseudo-terminal (python3's pty module): stdin, stdout and stderr are a terminal, and each
 * time the screen shows `prompt` (a regular expression) the next of `answers` is typed, with Enter.
 */
export async function inTerminal(
  args: string[],
  o: { home: string; prompt: string; answers: string[]; env?: Record<string, string> },
): Promise<{ code: number; screen: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      SYSTEM_PYTHON,
      [PTY_RUN, o.prompt, JSON.stringify(o.answers), '--', ...cliArgv(args)],
      {
        cwd: o.home,
        env: { ...baseEnv(o.home), TERM: 'xterm', ...o.env },
        timeout: 40_000,
        maxBuffer: 16 << 20,
      },
    );
    return { code: 0, screen: stdout };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, screen: e.stdout ?? '' };
  }
}
