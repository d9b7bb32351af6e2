/**
 * The protocol floor of scenario a: what one STARTTLS connection with PIPELINING allows when the client does
 * no work at all — no SMTP library, no checks, the bytes of every command and message prepared when `send` is
 * called. It follows the pattern a pipelining client must: MAIL, RCPT and DATA in one write; after 354, the
 * message and the next transaction's envelope in one write (RFC 2920 §3.1). One round trip per message is
 * the least DATA allows, so no client on this connection can be faster; the gap to it is the client's cost.
 * A bench fixture, not product code: it trusts the sink to answer every command with one single-line reply.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { BenchClient, ClientSettings } from './clients.js';
import { FROM, TO } from './messages.js';

interface Transaction {
  readonly envelope: string;
  readonly message: Buffer;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** What the next reply line answers, in order. */
type Expected = { readonly kind: 'ok' | 'go' | 'queued'; readonly tx: Transaction };

/** Reads `count` replies from a socket during the handshake, then lets go of it. */
function lines(socket: Socket | TLSSocket): (count: number) => Promise<string[]> {
  let buffered = '';
  let waiter: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    waiter?.();
  });
  return async (count) => {
    for (;;) {
      const all = buffered.split('\r\n');
      const complete = all.slice(0, -1).filter((l) => l[3] !== '-');
      if (complete.length >= count) {
        buffered = '';
        socket.removeAllListeners('data');
        return complete;
      }
      await new Promise<void>((resolve) => {
        waiter = resolve;
      });
    }
  };
}

export async function openFloor(s: ClientSettings, host: string, ehloName: string): Promise<BenchClient> {
  if (s.tls !== 'starttls' || s.auth) throw new Error('the floor client speaks STARTTLS without AUTH only');
  const raw = netConnect({ host, port: s.port });
  raw.setNoDelay(true);
  await lines(raw)(1);
  raw.write(`EHLO ${ehloName}\r\n`);
  await lines(raw)(1);
  raw.write('STARTTLS\r\n');
  await lines(raw)(1);
  const socket = tlsConnect({ socket: raw, ca: s.ca, host });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.write(`EHLO ${ehloName}\r\n`);
  await lines(socket)(1);

  const pending: Transaction[] = [];
  const expected: Expected[] = [];
  let awaitingGo = false;
  let partial = '';
  const start = (tx: Transaction, before?: Buffer) => {
    socket.cork();
    if (before) socket.write(before);
    socket.write(tx.envelope);
    socket.uncork();
    expected.push({ kind: 'ok', tx }, { kind: 'ok', tx }, { kind: 'go', tx });
    awaitingGo = true;
  };
  const fail = (err: Error) => {
    for (const e of expected.splice(0)) e.tx.reject(err);
    for (const tx of pending.splice(0)) tx.reject(err);
  };
  socket.on('error', fail);
  socket.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('latin1');
    const parts = text.split('\r\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      const e = expected.shift();
      if (!e) return fail(new Error(`floor: unexpected reply ${line}`));
      const code = line.slice(0, 3);
      if (e.kind === 'ok' && code !== '250') return fail(new Error(`floor: ${line}`));
      if (e.kind === 'queued') {
        if (code === '250') e.tx.resolve();
        else e.tx.reject(new Error(`floor: ${line}`));
        continue;
      }
      if (e.kind === 'go') {
        if (code !== '354') return fail(new Error(`floor: ${line}`));
        expected.push({ kind: 'queued', tx: e.tx });
        awaitingGo = false;
        const next = pending.shift();
        if (next) start(next, e.tx.message);
        else socket.write(e.tx.message);
      }
    }
  });

  return {
    send(source) {
      if (typeof source !== 'string') throw new Error('the floor client sends strings only');
      if (source.startsWith('.') || source.includes('\n.') || !source.endsWith('\r\n')) {
        throw new Error('the floor client sends messages that need no dot-stuffing and end in CRLF');
      }
      return new Promise((resolve, reject) => {
        const tx: Transaction = {
          envelope: `MAIL FROM:<${FROM}> SIZE=${source.length}\r\nRCPT TO:<${TO}>\r\nDATA\r\n`,
          message: Buffer.from(`${source}.\r\n`, 'latin1'),
          resolve: () => resolve({ method: 'DATA' }),
          reject,
        };
        if (awaitingGo) pending.push(tx);
        else start(tx);
      });
    },
    async close() {
      socket.end('QUIT\r\n');
      await new Promise((resolve) => socket.once('close', resolve));
    },
  };
}
