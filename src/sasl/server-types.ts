/**
 * The contract of the SASL server halves (RFC 4422 as carried by SMTP AUTH, RFC 4954). A mechanism is pure: it
 * turns the client's decoded responses into steps, asks a credential store, and never touches a socket; the
 * SMTP server core turns steps into replies.
 */
import type { Secret } from '../core/secret.js';

/**
 * Why an exchange failed, which the SMTP core maps to a reply:
 * 'credentials' → 535 5.7.8, 'protocol' → 501 5.5.2, 'temporary' (the store failed) → 454 4.7.0,
 * 'mechanism-too-weak' → 534 5.7.9.
 */
export type SaslFailureReason = 'credentials' | 'protocol' | 'temporary' | 'mechanism-too-weak';

/** What the server does next. */
export type SaslServerStep =
  /** Send "334 " + base64(data) and pass the client's answer to next(). */
  | { readonly type: 'challenge'; readonly data: Buffer }
  /**
   * Authenticated as `user` (SASLprep'd). `authzid` is present only when the client asked to act as someone else;
   * the core must decide whether `user` may. With `data` (SCRAM's server-final), send it as a 334 challenge
   * first; the client answers with an empty line, and only then 235 (RFC 4954 §4).
   */
  | {
      readonly type: 'success';
      readonly user: string;
      readonly authzid?: string;
      readonly data?: Buffer;
    }
  /**
   * Not authenticated. With `errorChallenge` (the OAuth JSON error, RFC 7628 §3.2.2), send it as a 334
   * challenge first; the client answers (empty line for XOAUTH2, a single 0x01 for OAUTHBEARER), then 535.
   */
  | {
      readonly type: 'failure';
      readonly reason: SaslFailureReason;
      readonly errorChallenge?: Buffer;
    };

/** The two SCRAM hash functions, as a credential store names them. */
export type ScramHashName = 'SHA-1' | 'SHA-256';

/** What a server keeps for SCRAM instead of the password (RFC 5803): the salt and two keys derived from it. */
export interface ScramStoredCredentials {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** Why a bearer token was refused; it becomes the JSON error challenge (RFC 7628 §3.2.2, Google's XOAUTH2). */
export interface OAuthTokenRejection {
  /** e.g. "invalid_token" (RFC 6750 §3.1) or, for XOAUTH2, an HTTP status such as "401". */
  readonly status: string;
  /** XOAUTH2 only, e.g. "bearer". */
  readonly schemes?: string;
  /** The scope a token needs, e.g. "https://mail.google.com/". */
  readonly scope?: string;
}

/**
 * Where the server halves look credentials up. Each method is optional; a mechanism is offered only when its
 * method is there. User names arrive SASLprep'd; an unknown user is a plain "no" (false / undefined), never an
 * error, and should take as long as a wrong password. Throwing means "cannot tell now" (454 4.7.0).
 */
export interface SaslCredentialStore {
  /** PLAIN and LOGIN; `password` arrives SASLprep'd (RFC 4616 §2 recommends preparing both sides). */
  verifyPassword?(user: string, password: Secret): Promise<boolean>;
  /** SCRAM-SHA-1/-256 and -PLUS. */
  scramCredentials?(user: string, hash: ScramHashName): Promise<ScramStoredCredentials | undefined>;
  /** CRAM-MD5 only: a plaintext-equivalent secret, which is why CRAM-MD5 is off by default. */
  plaintextPassword?(user: string): Promise<Secret | undefined>;
  /** XOAUTH2 and OAUTHBEARER: `true` when the token is valid for `user`. */
  verifyToken?(
    user: string,
    token: Secret,
    mechanism: 'XOAUTH2' | 'OAUTHBEARER',
  ): Promise<true | OAuthTokenRejection>;
}

/** What the server knows about the connection and itself. */
export interface SaslServerContext {
  /**
   * Channel binding data of this TLS connection (RFC 9266 / RFC 5929); -PLUS is offered exactly when there is
   * some, and a SCRAM client that says "y" (it could bind but thinks the server cannot) then fails.
   */
  readonly channelBinding?: {
    readonly 'tls-exporter'?: Buffer;
    readonly 'tls-server-end-point'?: Buffer;
  };
  /**
   * A server-wide random secret (≥ 16 bytes) from which SCRAM derives fake salts for unknown users, so that
   * replies do not reveal who exists. Keep it stable across restarts (real salts are), e.g. in the data folder.
   */
  readonly secretForFakeSalts: Buffer;
  /** Tests inject fixed nonces (SCRAM's server nonce, CRAM-MD5's challenge). */
  readonly nonce?: () => string;
  /** The server's host name, for the CRAM-MD5 challenge "<random.time@hostname>". */
  readonly hostname?: string;
}

/** One AUTH exchange on the server side; create a new one per AUTH command. Never rejects. */
export interface SaslServer {
  /** The canonical (upper-case) mechanism name. */
  readonly mechanism: string;
  /** `initialResponse` is undefined when AUTH had none, an empty Buffer for "=". */
  start(initialResponse: Buffer | undefined): Promise<SaslServerStep>;
  /**
   * The client's (base64-decoded) answer to the last 334. After a success with `data` or a failure with
   * `errorChallenge` it may be called once more with the client's answer and returns the final step.
   */
  next(response: Buffer): Promise<SaslServerStep>;
}
