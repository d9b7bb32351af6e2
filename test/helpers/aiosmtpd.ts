/**
 * An aiosmtpd (Python) SMTP server on 127.0.0.1 for interop tests: see aiosmtpd_server.py.
 * Runs with Debian's /usr/bin/python3 (SYSTEM_PYTHON), which has python3-aiosmtpd.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testPki } from './certs.js';
import { startPythonServer } from './python-server.js';
import { removeTempDir, tempDir } from './tmp.js';

const SERVER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'aiosmtpd_server.py');

export interface AiosmtpdOptions {
  /** 'starttls' (default): STARTTLS offered and required before MAIL; 'implicit': TLS from connect; 'none'. */
  tls?: 'starttls' | 'implicit' | 'none';
  /**
   * When given, AUTH PLAIN and LOGIN are offered: after STARTTLS with tls 'starttls', from the start with
   * 'implicit', and in plaintext with 'none' (for tests of clients that must refuse that).
   */
  authUsers?: { name: string; password: string }[];
  /** With authUsers: require AUTH before MAIL (default true). */
  authRequired?: boolean;
  /** With tls 'starttls': refuse MAIL etc. before STARTTLS (default true). */
  requireStarttls?: boolean;
  /** Offer SMTPUTF8 (default false). */
  smtputf8?: boolean;
  /** Maximum DATA size in bytes (advertised as SIZE); default aiosmtpd's 32 MiB. */
  dataSizeLimit?: number;
  /** Startup timeout (ms), default 10000. */
  timeoutMs?: number;
}

export interface AiosmtpdMessage {
  /** MAIL FROM address ('' for the null sender). */
  mailFrom: string;
  rcptTos: string[];
  /** ESMTP parameters of MAIL FROM (upper-cased by aiosmtpd), e.g. ['SIZE=123', 'BODY=8BITMIME']. */
  mailOptions: string[];
  rcptOptions: string[];
  /** The exact DATA bytes as aiosmtpd hands them (after dot-unstuffing; CRLF line endings kept). */
  data: Buffer;
  /** The AUTH identity, or null. */
  authUser: string | null;
  /** Whether the message came over TLS. */
  tls: boolean;
}

export interface AiosmtpdInstance {
  host: '127.0.0.1';
  port: number;
  /** CA file that signed the server certificate (CN/SAN localhost, 127.0.0.1). */
  caFile: string;
  /** The Python server's pid. */
  pid: number;
  /** Where the server writes the messages (NNNNNN.json). */
  dir: string;
  /** Messages accepted so far, in order. */
  messages(): Promise<AiosmtpdMessage[]>;
  /** Waits until at least `count` messages were accepted (default timeout 10 s); returns them all. */
  waitForMessages(count: number, timeoutMs?: number): Promise<AiosmtpdMessage[]>;
  /** What the server printed on stderr (aiosmtpd logs warnings and tracebacks there). */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startAiosmtpd(opts: AiosmtpdOptions = {}): Promise<AiosmtpdInstance> {
  const tls = opts.tls ?? 'starttls';
  const pki = await testPki();
  const dir = await tempDir('aiosmtpd');
  const args = ['--outdir', dir, '--tls', tls, '--cert', pki.certFile, '--key', pki.keyFile];
  if (opts.authUsers?.length) {
    args.push('--users', JSON.stringify(opts.authUsers));
    if (opts.authRequired !== false) args.push('--auth-required');
  }
  if (opts.requireStarttls === false) args.push('--no-require-starttls');
  if (opts.smtputf8) args.push('--smtputf8');
  if (opts.dataSizeLimit !== undefined) args.push('--data-size-limit', String(opts.dataSizeLimit));

  const server = await startPythonServer('startAiosmtpd', SERVER_SCRIPT, args, {
    timeoutMs: opts.timeoutMs,
    onStop: () => removeTempDir(dir),
  });
  const { port, child } = server;

  const messages = async (): Promise<AiosmtpdMessage[]> => {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    return Promise.all(
      names.map(async (n) => {
        const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as Omit<AiosmtpdMessage, 'data'> & {
          data: string;
        };
        // aiosmtpd reports the null sender as "<>".
        return { ...r, mailFrom: r.mailFrom === '<>' ? '' : r.mailFrom, data: Buffer.from(r.data, 'base64') };
      }),
    );
  };

  return {
    host: '127.0.0.1',
    port,
    caFile: pki.caFile,
    pid: child.pid!,
    dir,
    messages,
    async waitForMessages(count, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const list = await messages();
        if (list.length >= count) return list;
        if (Date.now() > deadline) {
          throw new Error(
            `aiosmtpd waitForMessages: ${list.length}/${count} message(s) after ${timeoutMs} ms\n--- stderr ---\n${server.stderr()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stderr: server.stderr,
    stop: server.stop,
  };
}
