import type { Logger, TranscriptListener } from '../core/index.js';
import type { Credentials } from '../sasl/index.js';
import type { ClientTlsOptions, TlsMode } from '../tls/index.js';

/** Timeouts in milliseconds; each names its phase when it fires. */
export interface Timeouts {
  /** TCP connect, per resolved address (default 15 s). */
  readonly connect?: number;
  /** From connect (or TLS handshake) to the 220 greeting (default 30 s). */
  readonly greeting?: number;
  /** TLS handshake, implicit or after STARTTLS (default 15 s). */
  readonly tls?: number;
  /** Each command's reply (default 60 s). */
  readonly command?: number;
  /** The reply after the end of message data (default 10 min, RFC 5321 §4.5.3.2.6). */
  readonly data?: number;
}

/** Options for one SMTP session; the transport takes the same plus pool settings. */
export interface SessionOptions {
  readonly host: string;
  /** Default 587 (465 when tls is 'implicit'). */
  readonly port?: number;
  /** 'implicit' | 'starttls' | 'opportunistic' | 'none'; default from the port (465 → implicit, else starttls). */
  readonly tls?: TlsMode;
  /** Certificate verification, pins, client certificates, minimum version. */
  readonly tlsOptions?: ClientTlsOptions;
  /** Name sent in EHLO/HELO (default: the machine's host name if it is a FQDN, else "[127.0.0.1]"-style literal). */
  readonly name?: string;
  readonly localAddress?: string;
  readonly family?: 0 | 4 | 6;
  readonly auth?: Credentials;
  /** Force or order SASL mechanisms, e.g. ['SCRAM-SHA-256'] or 'PLAIN'. */
  readonly authMethod?: string | readonly string[];
  /** Allow credentials over an unencrypted connection. Off by default; name says what it weakens. */
  readonly allowPlaintextAuth?: boolean;
  readonly timeouts?: Timeouts;
  /** Use BDAT when the server offers CHUNKING (default true). */
  readonly chunking?: boolean;
  /** Use PIPELINING when offered (default true). */
  readonly pipelining?: boolean;
  /** Largest reply line accepted (default 8 KiB). */
  readonly transcript?: TranscriptListener;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Injectable DNS lookup (tests, custom resolvers). */
  readonly lookup?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export const DEFAULT_TIMEOUTS: Required<Timeouts> = {
  connect: 15_000,
  greeting: 30_000,
  tls: 15_000,
  command: 60_000,
  data: 600_000,
};
