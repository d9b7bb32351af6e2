/**
 * `openssl s_server` on a free loopback port: an implicit-TLS peer nobody here wrote, whose certificate, versions
 * and ciphers a test chooses (e.g. `-tls1_1`, `-cipher DEFAULT:@SECLEVEL=0`, `-status_file`, `-no_ticket`).
 * It completes handshakes and ignores what is sent; it serves one connection at a time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { onExit, unrefChild } from './cleanup.js';
import { freePort, waitForListening } from './ports.js';

export interface OpensslServer {
  readonly port: number;
  stop(): void;
}

/** Starts s_server with a certificate and key (PEM files) and extra s_server flags. */
export async function startOpensslServer(
  files: { readonly certFile: string; readonly keyFile: string },
  extra: readonly string[] = [],
): Promise<OpensslServer> {
  const port = await freePort();
  const args = ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', files.certFile, '-key', files.keyFile];
  // stdin stays an open pipe: s_server ends a connection when its stdin reaches EOF.
  const child: ChildProcess = spawn('openssl', [...args, '-quiet', ...extra], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  unrefChild(child);
  const unregister = onExit(() => child.kill('SIGKILL'));
  const stop = () => {
    unregister();
    child.kill();
  };
  try {
    await waitForListening(port);
  } catch (err) {
    stop();
    throw new Error(`openssl s_server did not start: ${stderr}`, { cause: err });
  }
  return { port, stop };
}
