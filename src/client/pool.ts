import { PosternError } from '../core/index.js';

/** Limits on pooled connections. */
export interface PoolOptions {
  /** Connections open at once (default 5). */
  readonly maxConnections?: number;
  /** Messages per connection before it is replaced (default 100). */
  readonly maxMessages?: number;
  /** Milliseconds a connection may live before it is replaced (default 5 min). */
  readonly maxLifetime?: number;
  /** Milliseconds an idle connection is kept (default 30 s). */
  readonly idleTimeout?: number;
}

/** What the pool needs of a connection; SmtpSession fits. */
export interface Poolable {
  readonly usable: boolean;
  readonly openedAt: number;
  readonly messagesSent: number;
  quit(): Promise<void>;
  close(): void;
  setIdle(idle: boolean): void;
}

interface Idle<T> {
  readonly conn: T;
  readonly timer: NodeJS.Timeout;
}

interface Waiter<T> {
  readonly resolve: (c: T) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * First in, first out, O(1) at both ends. Thousands of sends may wait for one connection; Array#shift on a
 * long array moves every element, which cost microseconds per message in the pooled benchmark.
 */
class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Drop the consumed front once it is most of the array (amortised O(1)).
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes every item out, oldest first. */
  drain(): T[] {
    const all = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return all;
  }
}

/**
 * A bounded set of reusable connections. `acquire` hands out an idle one or opens a new one while under
 * `maxConnections`, else waits; `release` returns it, retiring it when it is broken or past its limits.
 */
export class Pool<T extends Poolable> {
  readonly #open: () => Promise<T>;
  readonly #max: number;
  readonly #maxMessages: number;
  readonly #maxLifetime: number;
  readonly #idleTimeout: number;
  #idle: Idle<T>[] = [];
  #count = 0;
  #waiters = new Queue<Waiter<T>>();
  #closed = false;

  constructor(open: () => Promise<T>, options: PoolOptions = {}) {
    this.#open = open;
    this.#max = Math.max(1, options.maxConnections ?? 5);
    this.#maxMessages = Math.max(1, options.maxMessages ?? 100);
    this.#maxLifetime = options.maxLifetime ?? 5 * 60_000;
    this.#idleTimeout = options.idleTimeout ?? 30_000;
  }

  /** Connections open now (idle or in use). */
  get size(): number {
    return this.#count;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  async acquire(): Promise<T> {
    if (this.#closed) throw closedError();
    while (this.#idle.length > 0) {
      const idle = this.#idle.pop()!;
      clearTimeout(idle.timer);
      if (this.#fresh(idle.conn)) {
        idle.conn.setIdle(false);
        return idle.conn;
      }
      this.#retire(idle.conn);
    }
    if (this.#count < this.#max) return this.#create();
    return new Promise<T>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Gives a connection back; a broken or worn-out one (or one to `retire`) is closed and its slot freed. */
  release(conn: T, options: { readonly retire?: boolean } = {}): void {
    if (this.#closed || options.retire || !this.#fresh(conn)) {
      this.#retire(conn);
      this.#wake();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve(conn);
      return;
    }
    conn.setIdle(true);
    const timer = setTimeout(() => {
      this.#idle = this.#idle.filter((i) => i.conn !== conn);
      this.#retire(conn);
    }, this.#idleTimeout);
    timer.unref();
    this.#idle.push({ conn, timer });
  }

  /** Quits idle connections and refuses new work; in-use connections are retired when released. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.drain()) w.reject(closedError());
    const idle = this.#idle.splice(0);
    await Promise.all(
      idle.map(async (i) => {
        clearTimeout(i.timer);
        this.#count--;
        // Idle connections are unref'd; keep the process alive until the goodbye is done.
        i.conn.setIdle(false);
        await i.conn.quit();
      }),
    );
  }

  #fresh(conn: T): boolean {
    return (
      conn.usable && conn.messagesSent < this.#maxMessages && Date.now() - conn.openedAt < this.#maxLifetime
    );
  }

  async #create(): Promise<T> {
    this.#count++;
    try {
      return await this.#open();
    } catch (err) {
      this.#count--;
      this.#wake();
      throw err;
    }
  }

  #retire(conn: T): void {
    this.#count--;
    if (conn.usable) void conn.quit();
    else conn.close();
  }

  /** A slot came free: open a connection for the next waiter. */
  #wake(): void {
    if (this.#closed || this.#waiters.length === 0 || this.#count >= this.#max) return;
    const waiter = this.#waiters.shift()!;
    this.#create().then(waiter.resolve, waiter.reject);
  }
}

function closedError(): PosternError {
  return new PosternError('ETRANSPORT_CLOSED', 'the transport is closed', {
    hint: 'create a new transport; close() ends the old one',
  });
}
