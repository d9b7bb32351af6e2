/**
 * The protocol floor of scenario a: what one STARTTLS connection with PIPELINING allows when the client does
 * no work at all. It is the server benchmark's load client (`RawSmtpClient`, server-smtp-client.ts), which
 * follows the pattern a pipelining client must: MAIL, RCPT and DATA in one write; after 354, the message and
 * the next envelope in one write (RFC 2920 §3.1). One round trip per message is the least DATA allows, so no
 * client on this connection can be faster; the gap to it is the client's own cost.
 *
 * The worker starts every send at once; this adapter gathers the sends of one turn of the event loop (the
 * same message each time) into one `sendMany`, and settles them together when the last is accepted.
 */
import { createSecureContext } from 'node:tls';
import type { BenchClient, ClientSettings, SendOutcome } from './clients.js';
import { RawSmtpClient } from './server-smtp-client.js';

interface Waiter {
  readonly resolve: (outcome: SendOutcome) => void;
  readonly reject: (err: unknown) => void;
}

export async function openFloor(s: ClientSettings): Promise<BenchClient> {
  if (s.tls !== 'starttls' || s.auth) throw new Error('the floor client speaks STARTTLS without AUTH only');
  const client = await RawSmtpClient.open(s.port, createSecureContext({ ca: s.ca }));
  let batch: { message: string; waiters: Waiter[] } | undefined;
  let done: Promise<unknown> = Promise.resolve();
  const flush = () => {
    const { message, waiters } = batch!;
    batch = undefined;
    done = done
      .then(() => client.sendMany(Buffer.from(message, 'latin1'), waiters.length))
      .then(
        () => {
          for (const w of waiters) w.resolve({ method: 'DATA' });
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err);
        },
      );
  };
  return {
    send(source) {
      if (typeof source !== 'string') throw new Error('the floor client sends strings only');
      if (source.startsWith('.') || source.includes('\n.') || !source.endsWith('\r\n')) {
        throw new Error('the floor client sends messages that need no dot-stuffing and end in CRLF');
      }
      return new Promise<SendOutcome>((resolve, reject) => {
        if (batch && batch.message !== source) throw new Error('the floor client sends one message per turn');
        if (!batch) {
          batch = { message: source, waiters: [] };
          queueMicrotask(flush);
        }
        batch.waiters.push({ resolve, reject });
      });
    },
    async close() {
      await done;
      await client.quit();
    },
  };
}
