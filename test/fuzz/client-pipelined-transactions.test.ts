// Several messages on one pooled connection, pipelined across transactions (each message written the moment its
// 354 arrives, with the next envelope), against a server that answers every command with a random reply. Each
// message's outcome must follow its own replies, each body must reach the server under its own transaction or
// not at all, and nothing may hang or cross over.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createTransport, PosternError } from '../../src/index.js';
import { startScriptedServer } from '../helpers/scripted-server.js';

const transaction = fc.record({
  mail: fc.constantFrom(250, 250, 250, 451, 550),
  rcpt: fc.constantFrom(250, 250, 251, 450, 550),
  data: fc.constantFrom(354, 354, 354, 451, 554),
  final: fc.constantFrom(250, 250, 250, 451, 554),
});

const body = (i: number) => `Subject: message ${i}\r\n\r\nbody of message ${i}\r\n`;

describe('client: pipelined transactions against random replies', () => {
  test('every message gets its own outcome; bodies arrive only where the replies allowed, under their own transaction', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(transaction, { minLength: 1, maxLength: 6 }), async (script) => {
        /** What the server saw per transaction: the message body, '' for the empty ending, undefined for none. */
        const received: (string | undefined)[] = [];
        const server = await startScriptedServer(async (c) => {
          await c.greet('fuzz', ['PIPELINING']);
          let n = -1;
          // Like a real server: a transaction stays open from an accepted MAIL until RSET or the end of data,
          // and MAIL inside an open one is refused — so a client that skips a needed RSET fails here.
          let open = false;
          for (;;) {
            let line: string;
            try {
              line = await c.readLine(3_000);
            } catch {
              return;
            }
            const verb = line.split(' ')[0];
            const codes = script[n];
            if (verb === 'MAIL') {
              n++;
              if (open) {
                c.reply(503, '5.5.1 nested MAIL');
                continue;
              }
              const code = script[n]?.mail ?? 503;
              open = code === 250;
              c.reply(code, 'mail');
            } else if (verb === 'RCPT') c.reply(codes?.rcpt ?? 503, 'rcpt');
            else if (verb === 'RSET') {
              open = false;
              c.reply(250, 'ok');
            } else if (verb === 'NOOP') c.reply(250, 'ok');
            else if (verb === 'QUIT') {
              c.reply(221, 'bye');
              return;
            } else if (verb === 'DATA') {
              const code = codes?.data ?? 503;
              c.reply(code, 'data');
              if (code !== 354) continue;
              open = false;
              // A lone "." is the empty ending; a message ends at its first "\r\n.\r\n" (none has a dot line).
              const first = await c.readUntil('\r\n', 3_000);
              if (first.toString() === '.\r\n') {
                received[n] = '';
                c.reply(554, 'empty');
                continue;
              }
              const rest = await c.readUntil('\r\n.\r\n', 3_000);
              received[n] = first.toString() + rest.toString().slice(0, -3);
              c.reply(codes?.final ?? 554, `2.0.0 queued as Q${n}`);
            } else c.reply(500, 'what');
          }
        });
        const transport = createTransport({
          host: '127.0.0.1',
          port: server.port,
          tls: 'none',
          pool: { maxConnections: 1 },
          retry: false,
          timeouts: { command: 3_000, data: 3_000 },
        });
        let outcomes: PromiseSettledResult<{ queueId: string | undefined }>[];
        try {
          outcomes = await Promise.allSettled(
            script.map((_, i) => transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, body(i))),
          );
        } finally {
          await transport.close();
          await server.close();
        }
        script.forEach((codes, i) => {
          const envelopeOk = codes.mail === 250 && (codes.rcpt === 250 || codes.rcpt === 251);
          const allowed = envelopeOk && codes.data === 354;
          const what = JSON.stringify({ i, script });
          if (allowed) assert.equal(received[i], body(i), what);
          else assert.ok(received[i] === undefined || received[i] === '', what);
          const outcome = outcomes[i]!;
          if (allowed && codes.final === 250) {
            assert.equal(outcome.status, 'fulfilled', what);
            assert.equal(outcome.status === 'fulfilled' && outcome.value.queueId, `Q${i}`, what);
          } else {
            assert.equal(outcome.status, 'rejected', what);
            assert.ok(outcome.status === 'rejected' && outcome.reason instanceof PosternError, what);
          }
        });
        assert.deepEqual(server.errors, []);
      }),
      { numRuns: 50 },
    );
  });
});
