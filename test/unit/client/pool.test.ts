// The connection pool alone, with fake connections: limits, FIFO hand-over to waiters (also with many thousands
// waiting), retirement, and close().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pool, type Poolable } from '../../../src/client/pool.js';

class FakeConn implements Poolable {
  static opened = 0;
  readonly id = ++FakeConn.opened;
  usable = true;
  readonly openedAt = Date.now();
  messagesSent = 0;
  idle = false;
  quits = 0;
  async quit(): Promise<void> {
    this.quits++;
    this.usable = false;
  }
  close(): void {
    this.usable = false;
  }
  setIdle(idle: boolean): void {
    this.idle = idle;
  }
}

test('waiters get the released connection first in, first out — 20,000 of them, each in turn', async () => {
  const pool = new Pool(async () => new FakeConn(), { maxConnections: 1, maxMessages: 1_000_000 });
  const first = await pool.acquire();
  const order: number[] = [];
  const waiting = Array.from({ length: 20_000 }, (_, i) =>
    pool.acquire().then((conn) => {
      order.push(i);
      conn.messagesSent++;
      pool.release(conn);
    }),
  );
  pool.release(first);
  await Promise.all(waiting);
  assert.equal(order.length, 20_000);
  assert.ok(
    order.every((v, i) => v === i),
    'served in the order they asked',
  );
  assert.equal(pool.size, 1, 'one connection did all the work');
  assert.equal(pool.idleCount, 1);
  await pool.close();
});

test('a connection past maxMessages is retired and the next waiter gets a new one', async () => {
  const pool = new Pool(async () => new FakeConn(), { maxConnections: 1, maxMessages: 2 });
  const a = await pool.acquire();
  const next = pool.acquire();
  a.messagesSent = 2;
  pool.release(a);
  const b = await next;
  assert.notEqual(b.id, a.id);
  assert.equal(a.quits, 1);
  pool.release(b);
  await pool.close();
  assert.equal(b.quits, 1, 'close() quits idle connections');
});

test('close() rejects every waiter with ETRANSPORT_CLOSED and refuses new acquires', async () => {
  const pool = new Pool(async () => new FakeConn(), { maxConnections: 1 });
  const held = await pool.acquire();
  const waiters = Array.from({ length: 3 }, () => pool.acquire());
  await pool.close();
  for (const w of waiters) await assert.rejects(w, { code: 'ETRANSPORT_CLOSED' });
  await assert.rejects(pool.acquire(), { code: 'ETRANSPORT_CLOSED' });
  pool.release(held);
  assert.equal(held.quits, 1, 'a connection released after close() is retired');
});
