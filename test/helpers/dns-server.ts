/**
 * A python3-dnslib authoritative DNS server on a free loopback port (UDP and TCP), serving zone data given
 * here: see dns-server.py for what the zone can say (records, AD bit, truncation, hostile replies).
 * Runs with Debian's /usr/bin/python3 (SYSTEM_PYTHON), which has python3-dnslib; check with
 * `peerSkip('dnslib')` first.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPythonServer } from './python-server.js';
import { removeTempDir, tempDir } from './tmp.js';

const SERVER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'dns-server.py');

export type MalformedMode =
  | 'pointer-loop'
  | 'pointer-pair'
  | 'truncated-rdata'
  | 'count-overflow'
  | 'txt-overrun'
  | 'reserved-label'
  | 'name-too-long'
  | 'short'
  | 'no-question'
  | 'mx-target-overrun'
  /** A reply with a forged ID first, then the real one: the client must skip the first. */
  | 'wrong-id-first';

export interface DnsZone {
  /** Zone-file lines, e.g. `example.test. 300 IN MX 10 mx1.example.test.` (TXT strings in double quotes). */
  records: string[];
  /** Names whose replies carry the AD bit. */
  authenticated?: string[];
  /** Names whose UDP replies are empty with TC set. */
  truncate?: string[];
  /** Names whose UDP replies are cut mid-record with TC set. */
  truncateCut?: string[];
  rcode?: Record<string, 'SERVFAIL' | 'REFUSED' | 'FORMERR' | 'NOTIMP' | 'NXDOMAIN'>;
  /** Names that get no reply at all. */
  hang?: string[];
  malformed?: Record<string, MalformedMode>;
}

export interface DnsQueryLog {
  readonly transport: 'udp' | 'tcp';
  readonly name: string;
  readonly type: string;
  /** The query had the EDNS0 DO bit. */
  readonly dnssecOk: boolean;
}

export interface DnsServerInstance {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** "127.0.0.1:PORT", for `resolver` options. */
  readonly address: string;
  /** Questions the server has logged so far, in order (the log arrives over a pipe, after the answer). */
  queries(): DnsQueryLog[];
  /** Waits until at least `count` questions for `name` are logged (default timeout 5 s); returns those. */
  waitForQueries(name: string, count: number, timeoutMs?: number): Promise<DnsQueryLog[]>;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts the server with `zone`; stop it with `stop()` (also done at process exit). */
export async function startDnsServer(
  zone: DnsZone,
  opts: { timeoutMs?: number } = {},
): Promise<DnsServerInstance> {
  const dir = await tempDir('dns');
  const zoneFile = join(dir, 'zone.json');
  await writeFile(zoneFile, JSON.stringify(zone));
  const server = await startPythonServer('startDnsServer', SERVER_SCRIPT, ['--zone', zoneFile], {
    timeoutMs: opts.timeoutMs,
    onStop: () => removeTempDir(dir),
  });
  const { port, child } = server;

  const queries = (): DnsQueryLog[] =>
    [...server.stdout().matchAll(/^QUERY (udp|tcp) (\S*) (\S+) DO=([01])$/gm)].map((m) => ({
      transport: m[1] as 'udp' | 'tcp',
      name: m[2] as string,
      type: m[3] as string,
      dnssecOk: m[4] === '1',
    }));
  const waitForQueries = (name: string, count: number, timeoutMs = 5000): Promise<DnsQueryLog[]> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const list = queries().filter((q) => q.name === name);
        if (list.length < count) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(list);
      };
      const timer = setTimeout(() => {
        child.stdout!.off('data', check);
        reject(
          new Error(
            `waitForQueries: fewer than ${count} queries for ${name} after ${timeoutMs} ms\n${server.stderr()}`,
          ),
        );
      }, timeoutMs);
      child.stdout!.on('data', check);
      check();
    });

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    queries,
    waitForQueries,
    stderr: server.stderr,
    stop: server.stop,
  };
}
