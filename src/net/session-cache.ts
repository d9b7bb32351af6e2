/**
 * TLS sessions kept for resumption, so pooled and repeated connections to one server skip the full handshake.
 * Keyed by "host:port:servername": a session is only offered back to the name it was verified for.
 *
 * A resumed handshake carries no certificate, and node:tls then reports none, so each entry also keeps the
 * certificate verified in the full handshake: pins, `tlsDetails` and "tls-server-end-point" still work.
 */
export interface CachedSession {
  readonly session: Buffer;
  /** DER of the server certificate verified when the session was made. */
  readonly peerCertificate: Buffer | undefined;
}

export class TlsSessionCache {
  readonly #max: number;
  // A Map iterates in insertion order, so re-inserting on use makes the first key the least recently used.
  readonly #entries = new Map<string, CachedSession>();

  constructor(max = 100) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Buffer | undefined {
    return this.entry(key)?.session;
  }

  /** The session and the certificate it was verified with. */
  entry(key: string): CachedSession | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, session: Buffer, peerCertificate?: Buffer): void {
    this.#entries.delete(key);
    this.#entries.set(key, { session, peerCertificate });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** The key startTls uses when none is given. */
  static key(host: string, port: number, servername: string | undefined): string {
    return `${host}:${port}:${servername ?? ''}`;
  }
}
