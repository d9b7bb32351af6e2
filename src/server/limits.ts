/**
 * Resource limits, their defaults, and the two counters that enforce them across connections:
 * connections (total and per client address) and failed AUTH attempts.
 */

export interface ServerLimits {
  /** Largest message in octets, advertised in SIZE and enforced on what arrives (default 25 MiB). */
  readonly maxMessageSize?: number;
  /** Recipients per transaction; more get 452 4.5.3 (default 100). */
  readonly maxRecipients?: number;
  /** Connections at once; more get 421 4.7.0 (default 1000). */
  readonly maxClients?: number;
  /** Connections at once from one address (default 100). */
  readonly maxClientsPerIp?: number;
  /** Unknown or malformed commands before 421 and disconnect (default 10). */
  readonly maxBadCommands?: number;
  /** Failed AUTH attempts before 421 and disconnect (default 3). */
  readonly maxAuthFailures?: number;
  /** First delay before answering a failed AUTH, doubled per failure (default 1000 ms). */
  readonly authFailureDelay?: number;
  /** Milliseconds with no byte at all from the client between commands (default 300000, RFC 5321 §4.5.3.2.7). */
  readonly idleTimeout?: number;
  /** Milliseconds from the first byte of a command line to its end; stops one-byte-at-a-time clients (default 60000). */
  readonly commandTimeout?: number;
  /** Milliseconds with no byte during DATA or BDAT data (default 180000). */
  readonly dataTimeout?: number;
  /** Milliseconds for a TLS handshake (default 15000). */
  readonly handshakeTimeout?: number;
  /**
   * Longest command line in octets without CRLF (default 12288: RFC 4954 §4 lets AUTH lines with an initial
   * response reach 12288 octets). Longer lines get 500 5.5.2 and are discarded up to the next line end.
   */
  readonly maxLineLength?: number;
}

export type ResolvedLimits = Required<ServerLimits>;

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxMessageSize: 25 * 1024 * 1024,
  maxRecipients: 100,
  maxClients: 1000,
  maxClientsPerIp: 100,
  maxBadCommands: 10,
  maxAuthFailures: 3,
  authFailureDelay: 1000,
  idleTimeout: 300_000,
  commandTimeout: 60_000,
  dataTimeout: 180_000,
  handshakeTimeout: 15_000,
  maxLineLength: 12_288,
};

/** The longest pause before a failed AUTH is answered, however many failures came before. */
export const MAX_AUTH_DELAY = 30_000;

export function resolveLimits(limits: ServerLimits | undefined): ResolvedLimits {
  const resolved = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw new RangeError(`limits.${key} is not a known limit`);
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new RangeError(`limits.${key} must be a non-negative number`);
    }
    (resolved as Record<string, number>)[key] = value;
  }
  return resolved;
}

/** The delay before the n-th failed AUTH (1-based) is answered: base, 2·base, 4·base, … capped. */
export function authFailureDelay(limits: ResolvedLimits, failures: number): number {
  return Math.min(limits.authFailureDelay * 2 ** Math.max(0, failures - 1), MAX_AUTH_DELAY);
}

/** Counts open connections, in total and per client address. */
export class ConnectionCounter {
  #total = 0;
  readonly #perAddress = new Map<string, number>();

  get total(): number {
    return this.#total;
  }

  /** Takes a slot, or says which limit is full. Call `release` exactly once for every 'ok'. */
  acquire(address: string, limits: ResolvedLimits): 'ok' | 'total' | 'address' {
    if (this.#total >= limits.maxClients) return 'total';
    const current = this.#perAddress.get(address) ?? 0;
    if (current >= limits.maxClientsPerIp) return 'address';
    this.#total += 1;
    this.#perAddress.set(address, current + 1);
    return 'ok';
  }

  release(address: string): void {
    this.#total = Math.max(0, this.#total - 1);
    const current = this.#perAddress.get(address) ?? 0;
    if (current <= 1) this.#perAddress.delete(address);
    else this.#perAddress.set(address, current - 1);
  }
}

/** How long failed AUTH attempts from an address are remembered. */
const AUTH_MEMORY_MS = 15 * 60_000;
/** Addresses remembered at most; the oldest are forgotten first. */
const AUTH_MEMORY_ENTRIES = 10_000;

/**
 * Failed AUTH attempts per client address, across connections, so reconnecting does not reset the delay.
 * Each failure makes the next answer slower; a success forgets the address.
 */
export class AuthThrottle {
  readonly #failures = new Map<string, { count: number; last: number }>();

  /** Records a failure and returns the delay (ms) before the failure may be answered. */
  fail(address: string, limits: ResolvedLimits, now = Date.now()): number {
    const entry = this.#failures.get(address);
    const count = entry && now - entry.last < AUTH_MEMORY_MS ? entry.count + 1 : 1;
    this.#failures.delete(address); // re-inserted last: Map order is then oldest-first
    this.#failures.set(address, { count, last: now });
    if (this.#failures.size > AUTH_MEMORY_ENTRIES) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    return authFailureDelay(limits, count);
  }

  succeed(address: string): void {
    this.#failures.delete(address);
  }
}
