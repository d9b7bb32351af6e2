/**
 * Structured logs as JSON lines ("--json-logs"): one object per event with time, level, message and the
 * event's fields. Credentials never reach these fields: the server logs user names, never secrets.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../core/index.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Readonly<Record<Level, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A Logger writing one JSON object per line to `out` (default stdout), from `level` up.
 *
 * @example new SmtpServer({ …, logger: jsonLogger() }) // {"time":"…","level":"info","msg":"connect","session":"…"}
 */
export function jsonLogger(out: Writable = process.stdout, level: Level = 'info'): Logger {
  const write = (at: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: at, msg };
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value !== undefined && !(key in record)) record[key] = value;
    }
    out.write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}
