/**
 * The SASL contract the SMTP client (and later the server) codes against. Mechanisms are pure: they turn
 * challenges into responses and never touch a socket, so each one is tested with plain bytes.
 */
import type { Secret } from '../core/secret.js';

/** RFC 9266 (TLS 1.3 exporter) or RFC 5929 (hash of the server certificate). */
export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point';

/** Channel binding data of the TLS connection, so a SCRAM-*-PLUS proof cannot be relayed to another server. */
export interface ChannelBinding {
  readonly type: ChannelBindingType;
  readonly data: Buffer;
}

/** Returns an OAuth access token; `refresh: true` asks for a new one after the server rejected the old one. */
export type TokenProvider = (options: { refresh: boolean }) => Promise<string> | string;

export interface PasswordCredentials {
  readonly user: string;
  readonly pass: Secret | string;
  /** Identity to act as, when it differs from `user` (PLAIN and SCRAM). */
  readonly authzid?: string;
}

export interface OAuthCredentials {
  readonly user: string;
  readonly accessToken: TokenProvider | Secret | string;
}

export type Credentials = PasswordCredentials | OAuthCredentials;

export interface SaslClientContext {
  /** Present only over TLS. */
  readonly channelBinding?: ChannelBinding | undefined;
  /** For OAUTHBEARER's host and port fields. */
  readonly host?: string;
  readonly port?: number;
  /** Ask the TokenProvider for a fresh token (the retry after an OAuth error challenge). */
  readonly refreshToken?: boolean;
  /** Tests inject a fixed client nonce. */
  readonly nonce?: () => string;
}

export interface SaslClient {
  /** The canonical (upper-case) mechanism name, e.g. 'SCRAM-SHA-256-PLUS'. */
  readonly mechanism: string;
  /**
   * Initial response for SASL-IR, or undefined when the mechanism must wait for the first challenge.
   * Empty Buffer = empty initial response. Call it only when you send its result; otherwise the first
   * (empty) 334 challenge given to respond() produces the same message.
   */
  initialResponse(): Promise<Buffer | undefined>;
  /** Answers one server challenge (already base64-decoded). */
  respond(challenge: Buffer): Promise<Buffer>;
  /** Called on 235 success. Throws AuthError 'EAUTH_SERVER_SIGNATURE' if a SCRAM server never proved itself. */
  finish(): void;
  /** For OAuth mechanisms: the parsed JSON error challenge (RFC 7628 §3.2.2), so the caller can refresh and retry. */
  readonly errorChallenge?: Record<string, unknown> | undefined;
}
