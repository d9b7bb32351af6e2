/**
 * Where accepted messages go. A store resolves `deliver` only once the message is safe (for Maildir: on disk
 * and fsynced), because the server sends its 250 then. Stores also list and read back what they hold, for the
 * demo, the CLI and tests.
 */
import type { Readable } from 'node:stream';
import type { Envelope, SessionInfo } from '../session.js';

export interface StoredMessage {
  /** The store's id of the message (for Maildir, its unique file name without the info suffix). */
  readonly id: string;
  /** The file, for stores that keep files. */
  readonly path?: string | undefined;
  /** Octets of the stored message. */
  readonly size: number;
  readonly envelope: Envelope;
  readonly receivedAt: Date;
}

export interface MessageStore {
  /**
   * Stores the message read from `message`. Rejects when the stream errors (the message was not completed);
   * nothing partial may remain then.
   */
  deliver(message: Readable, envelope: Envelope, session: SessionInfo): Promise<{ readonly id: string }>;
  /** Everything stored, oldest first. */
  list(): Promise<StoredMessage[]>;
  /** The bytes of one message; rejects for an unknown id. */
  read(id: string): Promise<Buffer>;
}
