/**
 * The server under test, alone in its process (started by server-process.ts): Postern's SmtpServer or
 * smtp-server (npm), configured alike — one STARTTLS listener on 127.0.0.1 with the same certificate, no AUTH,
 * no logging, limits far above the load, and a sink that counts each message's bytes and drops them.
 *
 * Protocol with the parent: one JSON line on stdin ({ server, cert, key }), then `READY port` on stdout.
 * Afterwards `gc` is answered with `GC` after two full collections (run with --expose-gc), `stats` with
 * `STATS {messages, bytes}`; stdin closing ends the process.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { loadBuilt } from './built.js';

export type ServerKind = 'postern' | 'smtp-server';

export interface TargetConfig {
  readonly server: ServerKind;
  readonly cert: string;
  readonly key: string;
}

export interface TargetCounters {
  messages: number;
  bytes: number;
}

/** Far above what the load needs: neither server may refuse a connection or a message for its size. */
const MAX_MESSAGE = 256 * 1024 * 1024;
const MAX_CLIENTS = 10_000;
const HOSTNAME = 'bench.example.test';

const counters: TargetCounters = { messages: 0, bytes: 0 };

/** The sink both servers share: reads the message to its end, counts it, keeps nothing. */
function drain(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.once('error', reject);
    stream.once('end', () => {
      counters.messages++;
      counters.bytes += bytes;
      resolve();
    });
  });
}

async function startPostern(config: TargetConfig): Promise<number> {
  const { SmtpServer } = await loadBuilt<typeof import('../src/server/index.js')>('server/index.js');
  const server = new SmtpServer({
    endpoints: [{ host: '127.0.0.1', port: 0, tls: 'starttls' }],
    tls: { cert: config.cert, key: config.key },
    hostname: HOSTNAME,
    limits: { maxClients: MAX_CLIENTS, maxClientsPerIp: MAX_CLIENTS, maxMessageSize: MAX_MESSAGE },
    // The store interface: deliver, and list/read that the bench never calls.
    store: {
      deliver: async (stream, envelope) => {
        await drain(stream);
        return { id: envelope.id };
      },
      list: async () => [],
      read: async () => Buffer.alloc(0),
    },
  });
  const [address] = await server.listen();
  return address!.port;
}

async function startSmtpServer(config: TargetConfig): Promise<number> {
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer({
    secure: false,
    cert: config.cert,
    key: config.key,
    name: HOSTNAME,
    size: MAX_MESSAGE,
    maxClients: MAX_CLIENTS,
    // No AUTH on either server; smtp-server would otherwise require it before MAIL.
    disabledCommands: ['AUTH'],
    authOptional: true,
    // Postern does no reverse lookup either.
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      drain(stream).then(
        () => callback(),
        (error: Error) => callback(error),
      );
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the target with --expose-gc');
  gc();
  gc();
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let started = false;
  for await (const line of lines) {
    if (!started) {
      started = true;
      const config = JSON.parse(line) as TargetConfig;
      const port = config.server === 'postern' ? await startPostern(config) : await startSmtpServer(config);
      process.stdout.write(`READY ${port}\n`);
    } else if (line === 'gc') {
      collectGarbage();
      // Let the collector's freed pages go back before the parent reads RSS.
      await new Promise((resolve) => setTimeout(resolve, 100));
      process.stdout.write('GC\n');
    } else if (line === 'stats') {
      process.stdout.write(`STATS ${JSON.stringify(counters)}\n`);
    }
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`server target: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
