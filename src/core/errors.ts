/**
 * One error family for the whole package. Callers switch on `code`, never on message text.
 * Where a server replied, the reply is attached so callers can inspect code, enhanced code and text.
 */

/** Stable error codes. Adding one is fine; renaming one is a breaking change. */
export type ErrorCode =
  // usage and input
  | 'EINVALID_ARGUMENT'
  | 'ECOMMAND_INJECTION'
  | 'EADDRESS_INVALID'
  | 'ECONFIG'
  // network
  | 'EDNS'
  | 'ECONNREFUSED'
  | 'ECONNECT_TIMEOUT'
  | 'ECONNECTION'
  | 'ECONNECTION_CLOSED'
  | 'ETIMEOUT'
  | 'EABORTED'
  // TLS
  | 'ETLS'
  | 'ETLS_HANDSHAKE'
  | 'ETLS_PLAINTEXT_PORT'
  | 'ETLS_CERT_UNTRUSTED'
  | 'ETLS_CERT_SELF_SIGNED'
  | 'ETLS_CERT_EXPIRED'
  | 'ETLS_CERT_NOT_YET_VALID'
  | 'ETLS_CERT_NAME_MISMATCH'
  | 'ETLS_PIN_MISMATCH'
  | 'ETLS_VERSION'
  // SMTP
  | 'EPROTOCOL'
  | 'EREPLY_TOO_LONG'
  | 'ESTARTTLS_UNAVAILABLE'
  | 'ESTARTTLS_INJECTION'
  | 'ESTARTTLS_FAILED'
  | 'ESMTP_REJECTED'
  | 'ESMTP_UNSUPPORTED'
  | 'ESMTPUTF8_REQUIRED'
  | 'EREQUIRETLS_UNSUPPORTED'
  | 'ESIZE_EXCEEDED'
  | 'ENO_RECIPIENTS'
  // AUTH
  | 'EAUTH_FAILED'
  | 'EAUTH_PLAINTEXT'
  | 'EAUTH_UNSUPPORTED'
  | 'EAUTH_APP_PASSWORD'
  | 'EAUTH_ENCRYPTION_REQUIRED'
  | 'EAUTH_TEMPORARY'
  | 'EAUTH_SERVER_SIGNATURE'
  | 'EAUTH_PROTOCOL'
  // pool / transport
  | 'ETRANSPORT_CLOSED';

/** The protocol phase an error happened in; errors name it so a timeout says where it stalled. */
export type Phase =
  | 'connect'
  | 'tls'
  | 'greeting'
  | 'ehlo'
  | 'starttls'
  | 'auth'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'bdat'
  | 'rset'
  | 'quit'
  | 'noop';

/** The reply of a server as carried on an error (structurally the same as protocol's Reply). */
export interface ErrorReply {
  readonly code: number;
  readonly enhanced?: string | undefined;
  readonly lines: readonly string[];
}

export interface PosternErrorOptions {
  readonly hint?: string | undefined;
  readonly reply?: ErrorReply | undefined;
  readonly command?: string | undefined;
  readonly phase?: Phase | undefined;
  /** Whether retrying later may succeed. Defaults from the reply (4xx) when there is one. */
  readonly transient?: boolean | undefined;
  readonly cause?: unknown;
}

/** Base class of every error Postern throws to a user. */
export class PosternError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly reply: ErrorReply | undefined;
  readonly command: string | undefined;
  readonly phase: Phase | undefined;
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options: PosternErrorOptions = {}) {
    super(
      options.hint ? `${message} — ${options.hint}` : message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.reply = options.reply;
    this.command = options.command;
    this.phase = options.phase;
    this.transient =
      options.transient ??
      (options.reply !== undefined ? options.reply.code >= 400 && options.reply.code < 500 : false);
  }
}

/** The server answered with a reply that ends the operation. */
export class SmtpReplyError extends PosternError {}

/** The network or TLS layer failed. */
export class ConnectionError extends PosternError {}

/** A TLS certificate or handshake problem. */
export class TlsError extends ConnectionError {}

/** Authentication did not succeed. */
export class AuthError extends PosternError {}

/** The caller passed something that cannot be written to the wire safely. */
export class InputError extends PosternError {}

/** A timer ran out; `phase` says which step stalled. */
export class TimeoutError extends ConnectionError {}

/** The peer violated the protocol (bad reply syntax, injection, over-long reply). */
export class ProtocolError extends PosternError {}

export function isPosternError(value: unknown): value is PosternError {
  return value instanceof PosternError;
}
