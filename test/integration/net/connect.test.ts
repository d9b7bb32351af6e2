import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ConnectionError, TimeoutError } from '../../../src/core/errors.js';
import { connectTcp } from '../../../src/net/connect.js';
import { refusedPort, saturatedListener, startPlainServer } from './servers.js';

describe('connectTcp', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup) await c();
  });

  test('connects to a loopback server and reports the address', async () => {
    const server = await startPlainServer();
    cleanup.push(server.close);
    const { socket, address, family } = await connectTcp({ host: '127.0.0.1', port: server.port });
    try {
      assert.equal(address, '127.0.0.1');
      assert.equal(family, 4);
      assert.equal(socket.remotePort, server.port);
    } finally {
      socket.destroy();
    }
  });

  test('resolves "localhost" with the system resolver', async () => {
    const server = await startPlainServer();
    cleanup.push(server.close);
    // localhost may resolve to ::1 first; that address refuses and 127.0.0.1 answers.
    const { socket, address } = await connectTcp({ host: 'localhost', port: server.port });
    socket.destroy();
    assert.equal(address, '127.0.0.1');
  });

  test('resolves names through lookup, in order, and tries the next address when one is refused', async () => {
    // Every 127.0.0.0/8 address is loopback: listen on .3 only, so .2 on the same port refuses.
    const server = await startPlainServer(undefined, '127.0.0.3');
    cleanup.push(server.close);
    const asked: string[] = [];
    const { socket, address } = await connectTcp({
      host: 'mail.example.test',
      port: server.port,
      lookup: async (host) => {
        asked.push(host);
        return [
          { address: '127.0.0.2', family: 4 },
          { address: '127.0.0.3', family: 4 },
        ];
      },
    });
    socket.destroy();
    assert.deepEqual(asked, ['mail.example.test']);
    assert.equal(address, '127.0.0.3');
  });

  test('a port nobody listens on gives ECONNREFUSED with a hint', async () => {
    const port = await refusedPort();
    const err = await connectTcp({ host: '127.0.0.1', port }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.phase, 'connect');
    assert.equal(err.transient, true);
    assert.match(err.message, new RegExp(`nothing is listening on 127\\.0\\.0\\.1 port ${port}`));
    assert.match(err.hint ?? '', /port/);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  test('when every address refuses, the message lists them', async () => {
    const port = await refusedPort();
    const err = await connectTcp({
      host: 'multi.example.test',
      port,
      lookup: async () => [
        { address: '127.0.0.2', family: 4 },
        { address: '127.0.0.3', family: 4 },
      ],
    }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.match(err.message, /127\.0\.0\.2: refused, 127\.0\.0\.3: refused/);
  });

  test('DNS failures: not found is EDNS and permanent, a temporary failure is EDNS and transient', async () => {
    const fail = (code: string) => async () => {
      throw Object.assign(new Error(`getaddrinfo ${code} x`), { code });
    };
    const notFound = await connectTcp({ host: 'nxdomain.test', port: 25, lookup: fail('ENOTFOUND') }).catch(
      (e: unknown) => e,
    );
    assert.ok(notFound instanceof ConnectionError);
    assert.equal(notFound.code, 'EDNS');
    assert.equal(notFound.transient, false);
    assert.match(notFound.message, /host nxdomain\.test not found/);
    const again = await connectTcp({ host: 'flaky.test', port: 25, lookup: fail('EAI_AGAIN') }).catch(
      (e: unknown) => e,
    );
    assert.ok(again instanceof ConnectionError);
    assert.equal(again.code, 'EDNS');
    assert.equal(again.transient, true);
  });

  test('family filters the resolved addresses', async () => {
    const err = await connectTcp({
      host: 'v4only.test',
      port: 25,
      family: 6,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'EDNS');
  });

  test('rejects an invalid port and an already aborted signal before doing anything', async () => {
    await assert.rejects(connectTcp({ host: '127.0.0.1', port: 0 }), { code: 'EINVALID_ARGUMENT' });
    await assert.rejects(connectTcp({ host: '127.0.0.1', port: 25, signal: AbortSignal.abort() }), {
      code: 'EABORTED',
    });
  });

  // No non-loopback blackhole addresses are allowed here, so a "filtered port" is simulated by a
  // listener whose accept queue is full: the kernel drops further SYNs and the connect hangs.
  test('a port that never answers gives ECONNECT_TIMEOUT; with a refusing address too, ECONNREFUSED wins', async (t) => {
    const saturated = await saturatedListener();
    if (!saturated) {
      t.skip('python3 is needed to hold a listener that never accepts');
      return;
    }
    cleanup.push(saturated.close);
    const started = Date.now();
    const err = await connectTcp({ host: '127.0.0.1', port: saturated.port, connectTimeout: 300 }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(err.code, 'ECONNECT_TIMEOUT');
    assert.equal(err.phase, 'connect');
    assert.match(err.message, /no answer from 127\.0\.0\.1 port \d+ within 300 ms/);
    assert.match(err.hint ?? '', /firewall/);
    assert.ok(Date.now() - started < 2000);

    const mixed = await connectTcp({
      host: 'mixed.test',
      port: saturated.port,
      connectTimeout: 300,
      lookup: async () => [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ],
    }).catch((e: unknown) => e);
    assert.ok(mixed instanceof ConnectionError);
    assert.equal(mixed.code, 'ECONNREFUSED');
    assert.match(mixed.message, /127\.0\.0\.1: timed out, 127\.0\.0\.2: refused/);
  });

  test('aborting the signal stops a hanging connect with EABORTED', async (t) => {
    const saturated = await saturatedListener();
    if (!saturated) {
      t.skip('python3 is needed to hold a listener that never accepts');
      return;
    }
    cleanup.push(saturated.close);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await assert.rejects(
      connectTcp({
        host: '127.0.0.1',
        port: saturated.port,
        connectTimeout: 10_000,
        signal: controller.signal,
      }),
      { code: 'EABORTED', phase: 'connect' },
    );
    assert.ok(Date.now() - started < 2000);
  });
});
