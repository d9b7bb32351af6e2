// MemoryStore's limits: maxMessages and maxBytes (defaults 10,000 and 256 MiB), counting messages still
// arriving; a full store refuses with 452 4.3.1 (temporary) until clear(), a message that can never fit gets
// 552 5.3.4, and a refused message is not buffered whole.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { InputError, SmtpReplyError } from '../../../src/core/errors.js';
import type { Envelope, SessionInfo } from '../../../src/server/index.js';
import { MEMORY_STORE_DEFAULTS, MemoryStore } from '../../../src/server/stores/memory.js';

const session = {} as SessionInfo;
let next = 0;
const envelope = (): Envelope => ({
  id: `ID${++next}`,
  mailFrom: { address: 'a@example.com', params: {} },
  rcptTo: [{ address: 'b@example.org', params: {} }],
});

function deliver(store: MemoryStore, size: number) {
  return store.deliver(Readable.from([Buffer.alloc(size, 0x61)]), envelope(), session);
}

/** Rejects with the reply `code enhanced`. */
async function refused(delivery: Promise<unknown>, expected: string): Promise<void> {
  await assert.rejects(delivery, (err: unknown) => {
    assert.ok(err instanceof SmtpReplyError);
    assert.equal(`${err.reply?.code} ${err.reply?.enhanced} ${err.reply?.lines.join(' ')}`, expected);
    return true;
  });
}

const FULL = '452 4.3.1 Insufficient system storage';
const TOO_BIG = '552 5.3.4 Message too big for system';

describe('MemoryStore limits', () => {
  test('defaults: 10,000 messages, then 452 4.3.1 until clear()', async () => {
    assert.deepEqual(MEMORY_STORE_DEFAULTS, { maxMessages: 10_000, maxBytes: 256 * 1024 * 1024 });
    const store = new MemoryStore();
    for (let i = 0; i < 10_000; i++) await deliver(store, 10);
    await refused(deliver(store, 10), FULL);
    assert.equal(store.messages.length, 10_000);
    store.clear();
    assert.equal(store.bytes, 0);
    await deliver(store, 10);
    assert.equal((await store.list()).length, 1);
  });

  test('maxMessages: the oldest are kept, the new one is refused', async () => {
    const store = new MemoryStore({ maxMessages: 2 });
    const first = await deliver(store, 5);
    await deliver(store, 5);
    await refused(deliver(store, 5), FULL);
    assert.equal((await store.list())[0]?.id, first.id);
    assert.equal(store.messages.length, 2);
  });

  test('maxBytes: fills up to the limit exactly; one octet more is refused', async () => {
    const store = new MemoryStore({ maxBytes: 100 });
    await deliver(store, 40);
    await deliver(store, 40);
    await refused(deliver(store, 21), FULL);
    await deliver(store, 20);
    assert.equal(store.bytes, 100);
    await refused(deliver(store, 1), FULL);
    store.clear();
    await deliver(store, 100);
    assert.equal(store.bytes, 100);
  });

  test('a message larger than maxBytes on its own gets 552 5.3.4, without being read to the end', async () => {
    const store = new MemoryStore({ maxBytes: 1024 });
    let produced = 0;
    // An endless message: the store must give up on it, not buffer it.
    const endless = Readable.from(
      (function* () {
        for (;;) {
          produced += 1;
          yield Buffer.alloc(256);
        }
      })(),
    );
    await refused(store.deliver(endless, envelope(), session), TOO_BIG);
    assert.ok(endless.destroyed, 'the refused stream is destroyed');
    assert.ok(produced < 10, `read ${produced} chunks`);
    assert.equal(store.bytes, 0);
    await deliver(store, 1024);
  });

  test('messages still arriving count against both limits', async () => {
    const byCount = new MemoryStore({ maxMessages: 1 });
    const slow = new PassThrough();
    const first = byCount.deliver(slow, envelope(), session);
    await refused(deliver(byCount, 1), FULL);
    slow.end('done');
    await first;
    assert.equal(byCount.messages.length, 1);

    const byBytes = new MemoryStore({ maxBytes: 100 });
    const arriving = new PassThrough();
    const big = byBytes.deliver(arriving, envelope(), session);
    arriving.write(Buffer.alloc(70));
    // Let the store take the 70 octets before the second message asks for room.
    await new Promise((resolve) => setImmediate(resolve));
    await refused(deliver(byBytes, 31), FULL);
    await deliver(byBytes, 30);
    arriving.end();
    await big;
    assert.equal(byBytes.bytes, 100);
  });

  test('a delivery that fails gives its room back', async () => {
    const store = new MemoryStore({ maxMessages: 1, maxBytes: 10 });
    const broken = new PassThrough();
    const failing = store.deliver(broken, envelope(), session);
    broken.write(Buffer.alloc(8));
    await new Promise((resolve) => setImmediate(resolve));
    broken.destroy(new Error('the client did not finish the message'));
    await assert.rejects(failing, /did not finish/);
    assert.equal(store.messages.length, 0);
    await deliver(store, 10);
    assert.equal(store.bytes, 10);
  });

  test('limits must be positive integers or Infinity', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new MemoryStore({ maxMessages: bad }),
        (err: unknown) => err instanceof InputError && err.code === 'ECONFIG',
      );
      assert.throws(() => new MemoryStore({ maxBytes: bad }), InputError);
    }
    const unbounded = new MemoryStore({
      maxMessages: Number.POSITIVE_INFINITY,
      maxBytes: Number.POSITIVE_INFINITY,
    });
    await deliver(unbounded, 1);
  });
});
