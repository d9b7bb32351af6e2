/**
 * The protocol phase of a connection, as one typed union: which commands make sense depends on it, and a
 * transition replaces the whole value (no loose flags that can disagree).
 *
 *   connected ──EHLO/HELO──▶ greeted ──MAIL──▶ transaction ──BDAT──▶ chunking
 *       ▲                      ▲  ▲               │  DATA done │ BDAT LAST / RSET
 *       └──── STARTTLS ────────┘  └───────────────┴────────────┘
 *   any ──QUIT / limit / error──▶ closing
 */
import type { MailParameters } from '../protocol/index.js';
import type { MessageSink } from './message-sink.js';
import type { EnvelopeRecipient, HeloInfo } from './session.js';

export interface Transaction {
  /** The queue id, chosen at MAIL. */
  readonly id: string;
  readonly from: string;
  readonly params: MailParameters;
  readonly recipients: readonly EnvelopeRecipient[];
}

export type Phase =
  /** Greeted by the server; waiting for EHLO or HELO. */
  | { readonly kind: 'connected' }
  /** EHLO/HELO done; no transaction. */
  | { readonly kind: 'greeted'; readonly helo: HeloInfo }
  /** MAIL accepted; RCPT commands add recipients. */
  | { readonly kind: 'transaction'; readonly helo: HeloInfo; readonly tx: Transaction }
  /** BDAT chunks are arriving; the message goes to `sink` until BDAT LAST. */
  | {
      readonly kind: 'chunking';
      readonly helo: HeloInfo;
      readonly tx: Transaction;
      readonly sink: MessageSink;
      readonly received: number;
    }
  /** The connection is ending; nothing more is read. */
  | { readonly kind: 'closing'; readonly reason: string };

export type PhaseKind = Phase['kind'];

/** The HELO of any phase that has one. */
export function heloOf(phase: Phase): HeloInfo | undefined {
  return 'helo' in phase ? phase.helo : undefined;
}

/** Whether a transaction (MAIL given, message not yet accepted) is open. */
export function inTransaction(phase: Phase): phase is Extract<Phase, { tx: Transaction }> {
  return phase.kind === 'transaction' || phase.kind === 'chunking';
}
