/**
 * `openssl s_server` on a free loopback port: a TLS peer nobody here wrote, whose certificate, versions and ciphers
 * a test chooses (e.g. `-tls1_1`, `-cipher DEFAULT:@SECLEVEL=0`, `-status_file`, `-no_ticket`). It completes
 * handshakes and ignores what is sent; it serves one connection at a time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { onExit, unrefChild } from './cleanup.js';
import { freePort, waitForListening } from './ports.js';

export interface OpensslServer {
  readonly port: number;
  /** What s_server printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts s_server with a certificate and key (PEM files) and extra s_server flags. */
export async function startOpensslServer(
  files: { readonly certFile: string; readonly keyFile: string },
  extra: readonly string[] = [],
): Promise<OpensslServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', files.certFile, '-key', files.keyFile];
    // stdin stays an open pipe: s_server ends a connection when its stdin reaches EOF.
    const child: ChildProcess = spawn('openssl', [...args, '-quiet', ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    unrefChild(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const unregister = onExit(() => child.kill('SIGKILL'), `kill -9 ${child.pid} 2>/dev/null\n`);
    const stop = async () => {
      unregister();
      if (child.exitCode === null && child.signalCode === null) {
        // The child is unref'd; ref it again so the event loop stays alive until its exit arrives.
        child.ref();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    };
    try {
      await Promise.race([
        waitForListening(port),
        exited.then(() => {
          throw new Error(`openssl s_server exited: ${output}`);
        }),
      ]);
      return { port, output: () => output, stop };
    } catch (err) {
      await stop();
      // Another process may take the free port between freePort() and s_server's bind.
      if (attempt >= 2 || !/in use/i.test(output)) {
        throw new Error(`openssl s_server did not start: ${output}`, { cause: err });
      }
    }
  }
}
