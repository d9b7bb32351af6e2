/**
 * What hooks and stores see of a connection and of a transaction: plain read-only data.
 */
import type { ServerTlsInfo } from '../net/index.js';
import type { MailParameters, RcptParameters } from '../protocol/index.js';

export type EndpointTls = 'implicit' | 'starttls' | 'none';

export interface RemoteInfo {
  /** The client's IP address (from the PROXY header when the endpoint uses one). */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export interface HeloInfo {
  /** The name the client gave, as sent. */
  readonly name: string;
  /** EHLO (true) or HELO (false). */
  readonly esmtp: boolean;
}

/** One connection, as hooks see it. Fields change as the session goes on (TLS, HELO, AUTH). */
export interface SessionInfo {
  /** Unique per connection, for logs. */
  readonly id: string;
  readonly endpoint: { readonly host: string; readonly port: number; readonly tls: EndpointTls };
  readonly remote: RemoteInfo;
  readonly local: { readonly address: string; readonly port: number };
  /** The addresses came from a PROXY protocol header. */
  readonly proxied: boolean;
  /** Present once TLS is up (implicit, or after STARTTLS). */
  readonly tls: ServerTlsInfo | undefined;
  readonly helo: HeloInfo | undefined;
  /** The authenticated user, once AUTH succeeded. */
  readonly user: string | undefined;
  /** Messages accepted on this connection so far. */
  readonly messages: number;
}

export interface EnvelopeRecipient {
  readonly address: string;
  readonly params: RcptParameters;
}

/** The envelope of one accepted message. */
export interface Envelope {
  /** The queue id given to the client in the 250 reply and in the Received header. */
  readonly id: string;
  /** The reverse-path; "" for the null sender of bounces. */
  readonly mailFrom: { readonly address: string; readonly params: MailParameters };
  readonly rcptTo: readonly EnvelopeRecipient[];
}
