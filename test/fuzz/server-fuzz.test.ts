// Fuzzing the server's command parser and connection state machine over real sockets: random bytes and
// mutated valid sessions, split into random writes. Nothing may crash, reject unhandled, or leak a
// connection, and an honest client must still be served afterwards.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseCommand } from '../../src/protocol/index.js';
import { MemoryStore, SmtpServer } from '../../src/server/index.js';

const VALID_SESSION = [
  'EHLO fuzz.test',
  'MAIL FROM:<a@example.com> SIZE=100 BODY=8BITMIME',
  'RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org',
  'RCPT TO:<c@example.org>',
  'DATA',
  'Subject: fuzz\r\n\r\nbody\r\n..dot\r\n.',
  'MAIL FROM:<a@example.com> BODY=BINARYMIME',
  'RCPT TO:<b@example.org>',
  'BDAT 5\r\nhello',
  'BDAT 0 LAST',
  'RSET',
  'VRFY someone',
  'NOOP',
  'HELP',
  'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
  'AUTH LOGIN',
  '*',
  'STARTTLS',
  'QUIT',
];

/** A session: valid commands, some mutated (bytes flipped, cut, doubled, junk inserted), as bytes. */
const session = fc
  .array(
    fc.tuple(
      fc.constantFrom(...VALID_SESSION),
      fc.oneof(
        fc.constant({ kind: 'keep' as const }),
        fc.record({
          kind: fc.constant('flip' as const),
          at: fc.nat(60),
          byte: fc.integer({ min: 0, max: 255 }),
        }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat(60) }),
        fc.record({ kind: fc.constant('junk' as const), bytes: fc.uint8Array({ maxLength: 20 }) }),
        fc.constant({ kind: 'double' as const }),
      ),
    ),
    { maxLength: 14 },
  )
  .map((steps) => {
    const parts: Buffer[] = [];
    for (const [line, mutation] of steps) {
      let bytes = Buffer.from(`${line}\r\n`, 'latin1');
      if (mutation.kind === 'flip') {
        bytes = Buffer.from(bytes);
        bytes[mutation.at % bytes.length] = mutation.byte;
      } else if (mutation.kind === 'cut') bytes = bytes.subarray(0, mutation.at % bytes.length);
      else if (mutation.kind === 'junk') bytes = Buffer.concat([bytes, Buffer.from(mutation.bytes)]);
      else if (mutation.kind === 'double') bytes = Buffer.concat([bytes, bytes]);
      parts.push(bytes);
    }
    return Buffer.concat(parts);
  });

const input = fc.oneof(
  session,
  fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
);

/** Writes `bytes` in pieces after the greeting, then either quits or drops the connection. */
async function play(
  port: number,
  bytes: Buffer,
  cuts: number[],
  ending: 'close' | 'reset' | 'wait',
): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  socket.resume();
  await once(socket, 'connect');
  await new Promise((resolve) => setTimeout(resolve, 2));
  let from = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
    if (socket.destroyed) break;
    if (cut > from) socket.write(bytes.subarray(from, cut));
    from = Math.max(from, cut);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (ending === 'reset') socket.resetAndDestroy();
  else if (ending === 'close') socket.end();
  else await Promise.race([once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 30))]);
  socket.destroy();
}

describe('server fuzz', () => {
  let server: SmtpServer;
  let port: number;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    server = new SmtpServer({
      endpoints: [{ port: 0, tls: 'starttls' }],
      hostname: 'mx.test',
      store: new MemoryStore(),
      auth: { store: { verifyPassword: async () => false }, allowPlaintextAuth: true },
      limits: {
        authFailureDelay: 1,
        maxBadCommands: 50,
        idleTimeout: 2000,
        commandTimeout: 2000,
        dataTimeout: 2000,
      },
    });
    port = (await server.listen())[0]!.port;
  });

  after(async () => {
    await server.close({ graceful: false });
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  });

  test('the command parser takes any line', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        parseCommand(Buffer.from(bytes).toString('latin1'));
        parseCommand(Buffer.from(bytes).toString('utf8'));
      }),
      { numRuns: 5000 },
    );
  });

  test('random and mutated sessions: no crash, no unhandled rejection, no leaked connection', async () => {
    await fc.assert(
      fc.asyncProperty(
        input,
        fc.array(fc.nat(1000), { maxLength: 5 }),
        fc.constantFrom('close' as const, 'reset' as const, 'wait' as const),
        async (bytes, cuts, ending) => {
          console.log(JSON.stringify([bytes.toString('latin1'), cuts, ending]));
          await play(port, bytes, cuts, ending);
        },
      ),
      { numRuns: 250 },
    );
    // Every connection ends: the ones waiting in DATA or mid-line run into their timeouts at the latest.
    const deadline = Date.now() + 5000;
    while (server.connections > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.connections, 0, 'no connection is left open');
    assert.deepEqual(unhandled, []);
  });

  test('an honest client is served after the fuzzing', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
    });
    await once(socket, 'connect');
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write('EHLO ok.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write('Subject: ok\r\n\r\nfine\r\n.\r\nQUIT\r\n');
    await once(socket, 'close');
    assert.match(text, /250 2\.0\.0 Ok: queued as \w+\r\n221 /);
  });
});
