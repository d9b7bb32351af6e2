/**
 * The clients under comparison behind one small interface, configured alike: same host and port, same CA,
 * same TLS mode, same EHLO name, AUTH PLAIN when credentials are given, no logging, no retries.
 * Also the raw node:tls writer that anchors the streaming figure (the floor of scenario a is in floor.ts).
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { loadBuilt } from './built.js';
import { openFloor } from './floor.js';
import { FROM, TO } from './messages.js';

export type ClientKind = 'nodemailer' | 'postern';
export type Source = string | Readable;

export interface ClientSettings {
  readonly port: number;
  readonly tls: 'starttls' | 'implicit' | 'none';
  readonly ca: string;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** One pooled connection for every message, or a fresh connection per message. */
  readonly pooled: boolean;
  /** Postern only: use BDAT when the server offers CHUNKING (nodemailer has no BDAT). */
  readonly chunking?: boolean;
}

export interface SendOutcome {
  /** 'DATA' or 'BDAT' when the client says which it used. */
  readonly method?: string;
}

export interface BenchClient {
  send(source: Source): Promise<SendOutcome>;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const EHLO_NAME = 'bench-client.example.test';

export async function openClient(kind: ClientKind | 'floor', settings: ClientSettings): Promise<BenchClient> {
  if (kind === 'floor') return openFloor(settings);
  return kind === 'nodemailer' ? openNodemailer(settings) : openPostern(settings);
}

async function openNodemailer(s: ClientSettings): Promise<BenchClient> {
  const { default: nodemailer } = await import('nodemailer');
  const common = {
    host: HOST,
    port: s.port,
    name: EHLO_NAME,
    secure: s.tls === 'implicit',
    requireTLS: s.tls === 'starttls',
    ignoreTLS: s.tls === 'none',
    tls: { ca: s.ca },
    logger: false,
    debug: false,
    ...(s.auth ? { auth: { user: s.auth.user, pass: s.auth.pass }, authMethod: 'PLAIN' } : {}),
  };
  const transporter = s.pooled
    ? nodemailer.createTransport({
        ...common,
        pool: true,
        maxConnections: 1,
        maxMessages: Number.POSITIVE_INFINITY,
      })
    : nodemailer.createTransport({ ...common });
  return {
    async send(source) {
      const info = await transporter.sendMail({ envelope: { from: FROM, to: [TO] }, raw: source });
      if (info.accepted.length !== 1) throw new Error(`nodemailer: recipient not accepted: ${info.response}`);
      return {};
    },
    async close() {
      transporter.close();
    },
  };
}

async function openPostern(s: ClientSettings): Promise<BenchClient> {
  const { createTransport } = await loadBuilt<typeof import('../src/index.js')>('index.js');
  const transport = createTransport({
    host: HOST,
    port: s.port,
    name: EHLO_NAME,
    tls: s.tls,
    tlsOptions: { ca: s.ca },
    ...(s.auth ? { auth: { user: s.auth.user, pass: s.auth.pass }, authMethod: 'PLAIN' } : {}),
    pool: s.pooled ? { maxConnections: 1, maxMessages: 100_000 } : false,
    retry: false,
    chunking: s.chunking ?? true,
  });
  return {
    async send(source) {
      const result = await transport.sendRaw({ from: FROM, to: [TO] }, source);
      if (result.accepted.length !== 1)
        throw new Error(`postern: recipient not accepted: ${result.reply.lines}`);
      return { method: result.method };
    },
    async close() {
      await transport.close();
    },
  };
}

/** Writes `size` bytes from `source` over one TLS connection to the sink's discard listener; resolves on its OK. */
export async function rawTlsSend(port: number, ca: string, size: number, source: Readable): Promise<void> {
  const socket = tlsConnect({ host: HOST, port, ca });
  try {
    await once(socket, 'secureConnect');
    socket.setNoDelay(true);
    let reply = '';
    const answered = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('latin1');
        if (reply.includes('\n')) {
          if (reply.startsWith(`OK ${size}`)) resolve();
          else reject(new Error(`raw sink answered ${JSON.stringify(reply)} for ${size} bytes`));
        }
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('raw sink closed the connection early')));
    });
    socket.write(`SIZE ${size}\r\n`);
    source.pipe(socket, { end: false });
    await answered;
  } finally {
    socket.destroy();
  }
}
