// Whatever a server answers to a pipelined group (AUTH PLAIN, MAIL, RCPT, DATA), the client writes the message
// only when every reply allowed it, settles with a result or a typed error, and never hangs or leaks a rejection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createTransport, PosternError } from '../../src/index.js';
import { startScriptedServer } from '../helpers/scripted-server.js';

const MESSAGE = 'Subject: fuzz\r\n\r\nbody\r\n';

const replies = fc.record({
  auth: fc.constantFrom(235, 235, 235, 334, 454, 535, 501, 421),
  mail: fc.constantFrom(250, 250, 451, 550, 530, 421),
  rcpt: fc.constantFrom(250, 251, 450, 550, 503),
  data: fc.constantFrom(354, 354, 503, 554, 451),
  final: fc.constantFrom(250, 250, 451, 554),
});

describe('client: any replies to a pipelined AUTH group', () => {
  test('the message is written exactly when AUTH, MAIL, a RCPT and DATA all said yes', async () => {
    await fc.assert(
      fc.asyncProperty(replies, async (r) => {
        let group: string[] = [];
        let bodySent = false;
        const server = await startScriptedServer(async (c) => {
          await c.greet('fuzz', ['PIPELINING', 'AUTH PLAIN']);
          group = [await c.readLine(), await c.readLine(), await c.readLine(), await c.readLine()];
          const text = (code: number) => `${code} ${code < 400 ? 'ok' : 'no'}\r\n`;
          c.write(text(r.auth) + text(r.mail) + text(r.rcpt) + text(r.data));
          if (r.data !== 354) return;
          let data: Buffer;
          try {
            // The message has no dot of its own, so its first ".\r\n" ends it; a bare ".\r\n" is the empty
            // ending a client owes a server that said 354 after refusing the envelope (RFC 2920 §3.1).
            data = await c.readUntil('.\r\n', 3_000);
          } catch {
            return; // the client hung up: no message
          }
          bodySent = data.length > 3;
          c.write(text(bodySent ? r.final : 554));
        });
        // What the client wrote as message data, from its own transcript: a write the connection's close
        // discarded before it left would not show at the server.
        let dataWritten = 0;
        const transport = createTransport({
          transcript: (e) => {
            if (e.type === 'data' && e.direction === 'out') dataWritten += e.bytes;
          },
          host: '127.0.0.1',
          port: server.port,
          tls: 'none',
          allowPlaintextAuth: true,
          auth: { user: 'u', pass: 'p' },
          pool: false,
          retry: false,
          timeouts: { command: 2_000, data: 2_000 },
        });
        let outcome: 'sent' | PosternError;
        try {
          await transport.sendRaw({ from: 'a@x.test', to: ['b@x.test'] }, MESSAGE);
          outcome = 'sent';
        } catch (err) {
          assert.ok(err instanceof PosternError, String(err));
          outcome = err;
        } finally {
          await transport.close();
          await server.close();
        }
        assert.deepEqual(
          group.map((l) => l.split(' ')[0]),
          ['AUTH', 'MAIL', 'RCPT', 'DATA'],
        );
        const allowed =
          r.auth === 235 && r.mail === 250 && (r.rcpt === 250 || r.rcpt === 251) && r.data === 354;
        assert.equal(bodySent, allowed, JSON.stringify(r));
        assert.equal(dataWritten > 0, allowed, JSON.stringify(r));
        assert.equal(outcome === 'sent', allowed && r.final === 250, JSON.stringify(r));
        if (r.auth !== 235) assert.match((outcome as PosternError).code, /^EAUTH_/);
        assert.deepEqual(server.errors, []);
      }),
      { numRuns: 200 },
    );
  });
});
